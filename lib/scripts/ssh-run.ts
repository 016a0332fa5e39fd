import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { resolveSeed } from '../crypto/cipher-a.js';
import { openSecret } from '../crypto/secret-fields.js';
import { ArtifactStoreError, JobFailedError, PluginError } from '../errors.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import { checkHostKey, type HostKeyPolicy, type HostKeyStatus, type KnownHosts } from '../ssh/host-key-policy.js';
import { remoteScriptCommand } from '../ssh/remote-command.js';
import { SshSession, type SshTarget } from '../ssh/ssh-session.js';
import { EXIT_TIMEOUT, joinOutput } from './classify-script-result.js';
import { formatDetail } from './format-detail.js';
import type { ScriptOutput } from './host-script-run.js';
import type { ScriptStep } from './plan-scripts.js';

export interface SshRunDeps {
  store: () => ArtifactStore;
  knownHosts: KnownHosts;
  /** ENCRYPT_SEED: wins over an empty or encrypted item seed (upstream §12.2). */
  encryptSeed: string | undefined;
  settings: {
    timeoutS: number;
    outputMaxChars: number;
    connectTimeoutMs: number;
    hostKeyPolicy: HostKeyPolicy;
  };
  /** Opens the session (ssh2 by default; injectable for tests). */
  open?: typeof SshSession.open;
}

const MAX_SCRIPT_BYTES = 16 * 1024 * 1024;

/** What one host's scripts over SSH produced: runScripts' output and the host key the server presented. */
export type SshRunOutput = ScriptOutput & {
  /** SHA256 fingerprint of the host key the server presented. */
  hostKeyFingerprint?: string | undefined;
  /** pinned: matched hostKeyFingerprint; known: matched the recorded key; recorded: first connection, the key was recorded now. */
  hostKeyStatus?: HostKeyStatus | undefined;
};

/** Scripts to run on one host over SSH: the typed input of runSshScripts. */
export interface SshRunRequest {
  host: string;
  port: number;
  /** The login user, who runs the scripts (validated by the caller: runAsField). */
  runAs: string;
  /** In order; the first failure stops the rest (planScripts makes them). */
  steps: readonly ScriptStep[];
  timeoutS: number;
  /** Open the password or key with guid + seed (`{cipher_a}`, legacy or plain; resolveSeed, openSecret). */
  guid?: string | undefined;
  seed?: string | undefined;
  password?: string | undefined;
  privateKey?: string | undefined;
  /** The host key must match this (normalised) SHA256 fingerprint; absent: SSH_HOST_KEY_POLICY decides. */
  hostKeyFingerprint?: string | undefined;
}

async function readScript(store: ArtifactStore, step: ScriptStep, signal: AbortSignal): Promise<Buffer> {
  if (step.source.kind === 'inline') return Buffer.from(step.source.content, 'utf8');
  if (step.source.kind !== 's3') throw new Error('readScript: not an uploaded script');
  const { body } = await store.get(step.source.ref, { signal });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_SCRIPT_BYTES) throw new ArtifactStoreError(`Script ${step.source.ref.url} is larger than ${MAX_SCRIPT_BYTES} bytes`);
    chunks.push(Buffer.from(chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

/**
 * host-script/ssh-run's core: the same scripts over SSH, for hosts without a minion. The login user is runAs
 * (as upstream), with a password ({cipher_a}, legacy or plain) or a private key. S3 and inline scripts
 * are uploaded over SFTP into the user's home (never served over HTTP) and removed afterwards. The host
 * key is checked against hostKeyFingerprint, or recorded on first use (see SSH_HOST_KEY_POLICY).
 */
export async function runSshScripts(deps: SshRunDeps, request: SshRunRequest, ctx: RunContext): Promise<ItemOutcome<SshRunOutput>> {
  const { steps, timeoutS } = request;
  const seed = resolveSeed(request.seed, deps.encryptSeed);
  const guid = request.guid ?? '';
  const target: SshTarget = {
    host: request.host,
    port: request.port,
    username: request.runAs,
    password: request.password ? openSecret(guid, seed, request.password, ctx.logger.redactor) : undefined,
    privateKey: request.privateKey ? openSecret(guid, seed, request.privateKey, ctx.logger.redactor) : undefined,
  };
  const id = `${request.host}:${request.port}`;
  let fingerprint: string | undefined;
  let status: HostKeyStatus | undefined;
  const outputs: string[] = [];
  let retCode = 0;
  const result = (): SshRunOutput => ({
    target: request.host,
    retCode,
    detail: formatDetail(outputs, deps.settings.outputMaxChars),
    ...(fingerprint && { hostKeyFingerprint: fingerprint }),
    ...(status && { hostKeyStatus: status }),
  });

  // Everything the item does is bounded: connection, every script with its own timeout, and some slack.
  const totalMs = deps.settings.connectTimeoutMs + steps.length * (timeoutS + 15) * 1000 + 15_000;
  const total = AbortSignal.any([ctx.signal, AbortSignal.timeout(totalMs)]);
  let session: SshSession | undefined;
  try {
    session = await (deps.open ?? SshSession.open)(target, {
      connectTimeoutMs: deps.settings.connectTimeoutMs,
      signal: total,
      verifyHostKey: async (fp) => {
        fingerprint = fp;
        status = await checkHostKey({ id, fingerprint: fp, pinned: request.hostKeyFingerprint, policy: deps.settings.hostKeyPolicy, known: deps.knownHosts });
        if (status === 'recorded') ctx.logger.info('ssh host key recorded on first use', { host: id, fingerprint: fp });
      },
    });
    for (const step of steps) {
      let path: string;
      let uploaded: string | undefined;
      if (step.source.kind === 'local') {
        path = step.source.path;
      } else {
        const content = await readScript(deps.store(), step, total);
        const ext = step.source.kind === 's3' ? (/\.([A-Za-z0-9]{1,8})$/.exec(step.source.ref.key)?.[1] ?? 'sh') : 'sh';
        path = uploaded = await session.upload(content, `.${ext}`);
      }
      try {
        const run = await session.exec(remoteScriptCommand({ path, args: step.args, cwd: step.cwd, timeoutS }), {
          timeoutMs: (timeoutS + 10) * 1000,
          maxOutputChars: deps.settings.outputMaxChars,
        });
        const killed = run.timedOut || run.code === EXIT_TIMEOUT;
        retCode = killed ? EXIT_TIMEOUT : (run.code ?? 1);
        const out = joinOutput(run.stdout, run.stderr);
        outputs.push(killed ? joinOutput(out, `[killed after its ${timeoutS} s timeout]`) : out);
        if (killed) {
          throw new JobFailedError(`Script ${step.label} failed on target ${request.host}: killed after its ${timeoutS} s timeout`, request.host);
        }
        if (retCode !== 0) {
          const tail = out.replace(/\s+/g, ' ').trim().slice(-300);
          throw new JobFailedError(`Script run retCode=${retCode} on target ${request.host} (${step.label})${tail ? `: ${tail}` : ''}`, request.host);
        }
      } finally {
        if (uploaded) {
          const failed = await session.remove(uploaded);
          if (failed) ctx.logger.warn('could not remove an uploaded script', { host: id, path: uploaded });
        }
      }
    }
    return { ok: true, output: result() };
  } catch (error) {
    if (retCode === 0) retCode = 1;
    const cause =
      error instanceof PluginError || !total.aborted
        ? error
        : new JobFailedError(`ssh-run on ${request.host} exceeded its ${Math.round(totalMs / 1000)} s budget`, request.host);
    return { ok: false, error: cause, output: result() };
  } finally {
    session?.close();
  }
}
