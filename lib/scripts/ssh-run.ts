import { z } from 'zod';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { resolveSeed } from '../crypto/cipher-a.js';
import { openSecret } from '../crypto/secret-fields.js';
import { ArtifactStoreError, JobFailedError, PluginError } from '../errors.js';
import { checkHostKey, normaliseFingerprint, type HostKeyPolicy, type HostKeyStatus, type KnownHosts } from '../ssh/host-key-policy.js';
import { remoteScriptCommand } from '../ssh/remote-command.js';
import { SshSession, type SshTarget } from '../ssh/ssh-session.js';
import { EMPTY, looseString } from '../wecube/fields.js';
import { defineOperation, eachOutcome, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { portField } from '../wecube/server-fields.js';
import { EXIT_TIMEOUT, joinOutput } from './classify-script-result.js';
import { formatDetail } from './format-detail.js';
import { planRefinement, scriptFields, scriptOutput, stepsOf } from './host-script-run.js';
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

const output = scriptOutput.extend({
  hostKeyFingerprint: z.string().optional().describe('SHA256 fingerprint of the host key the server presented'),
  hostKeyStatus: z
    .enum(['pinned', 'known', 'recorded'])
    .optional()
    .describe('pinned: matched hostKeyFingerprint; known: matched the recorded key; recorded: first connection, the key was recorded now'),
});
type SshRunOutput = z.infer<typeof output>;

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
 * host-script/ssh-run: the same scripts over SSH, for hosts without a minion. The login user is runAs
 * (as upstream), with a password ({cipher_a}, legacy or plain) or a private key. S3 and inline scripts
 * are uploaded over SFTP into the user's home (never served over HTTP) and removed afterwards. The host
 * key is checked against hostKeyFingerprint, or recorded on first use (see SSH_HOST_KEY_POLICY).
 */
export const hostScriptSshRun = (deps: SshRunDeps) => {
  const input = z
    .object({
      ...scriptFields('ssh-run'),
      port: portField(22),
      password: looseString(),
      privateKey: looseString(),
      seed: looseString(),
      hostKeyFingerprint: looseString().transform((v, ctx) => {
        if (!v?.trim()) return undefined;
        const fp = normaliseFingerprint(v);
        if (!fp) ctx.addIssue({ code: 'custom', message: 'must be an OpenSSH SHA256 fingerprint (SHA256:<43 base64 characters>)' });
        return fp;
      }),
    })
    .superRefine((item, ctx) => {
      if (!item.password && !item.privateKey) ctx.addIssue({ code: 'custom', path: ['password'], message: EMPTY });
      planRefinement(item, ctx);
    });

  const runItem = async (item: z.output<typeof input>, ctx: RunContext): Promise<ItemOutcome<SshRunOutput>> => {
    const timeoutS = item.timeout ?? deps.settings.timeoutS; // the setting's default, read per call
    const steps = stepsOf(item);
    const seed = resolveSeed(item.seed, deps.encryptSeed);
    const guid = item.guid ?? '';
    const target: SshTarget = {
      host: item.target,
      port: item.port,
      username: item.runAs.user,
      password: item.password ? openSecret(guid, seed, item.password, ctx.logger.redactor) : undefined,
      privateKey: item.privateKey ? openSecret(guid, seed, item.privateKey, ctx.logger.redactor) : undefined,
    };
    const id = `${item.target}:${item.port}`;
    let fingerprint: string | undefined;
    let status: HostKeyStatus | undefined;
    const outputs: string[] = [];
    let retCode = 0;
    const result = (): SshRunOutput => ({
      target: item.target,
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
          status = await checkHostKey({ id, fingerprint: fp, pinned: item.hostKeyFingerprint, policy: deps.settings.hostKeyPolicy, known: deps.knownHosts });
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
            throw new JobFailedError(`Script ${step.label} failed on target ${item.target}: killed after its ${timeoutS} s timeout`, item.target);
          }
          if (retCode !== 0) {
            const tail = out.replace(/\s+/g, ' ').trim().slice(-300);
            throw new JobFailedError(`Script run retCode=${retCode} on target ${item.target} (${step.label})${tail ? `: ${tail}` : ''}`, item.target);
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
          : new JobFailedError(`ssh-run on ${item.target} exceeded its ${Math.round(totalMs / 1000)} s budget`, item.target);
      return { ok: false, error: cause, output: result() };
    } finally {
      session?.close();
    }
  };

  return defineOperation({
    plugin: 'host-script',
    action: 'ssh-run',
    summary: 'Run scripts over SSH on hosts without a minion (password or key; S3/inline scripts sent over SFTP; host key pinned or recorded on first use)',
    input,
    output,
    run: eachOutcome(runItem),
  });
};
