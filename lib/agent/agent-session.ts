import { openSecret } from '../crypto/secret-fields.js';
import { resolveSeed } from '../crypto/cipher-a.js';
import { AgentInstallError } from '../errors.js';
import type { Redactor } from '../log/redactor.js';
import type { Logger } from '../log/logger.js';
import { checkHostKey, type HostKeyPolicy, type HostKeyStatus, type KnownHosts } from '../ssh/host-key-policy.js';
import { SshSession, type ExecResult, type SshTarget } from '../ssh/ssh-session.js';
import { failureText, lastStep, sudoCheckCommand } from './remote-scripts.js';

export interface AgentSshSettings {
  connectTimeoutMs: number;
  commandTimeoutS: number;
  hostKeyPolicy: HostKeyPolicy;
}

export interface AgentSshItem {
  guid: string;
  seed: string | undefined;
  host: string;
  port: number;
  user: string;
  password: string;
  passwordType: string | undefined;
  hostKeyFingerprint: string | undefined;
}

/** An open SSH session to the host, with what the host key check found and the sudo password to send. */
export interface AgentSession {
  session: SshSession;
  hostKeyFingerprint: string | undefined;
  hostKeyStatus: HostKeyStatus | undefined;
  /** What to write on the stdin of a privileged command: the password for sudo -S, nothing as root. */
  sudoInput: string | undefined;
}

/**
 * Logs in as the item's user (password, or a private key with passwordType=key; literal `\n` in a key
 * become newlines as upstream) after checking the host key. The secret is registered for redaction.
 * Throws InputError (login refused), TargetNoReturnError (unreachable) or HostKeyError.
 */
export async function openAgentSession(
  item: AgentSshItem,
  deps: { knownHosts: KnownHosts; encryptSeed: string | undefined; settings: AgentSshSettings; open?: typeof SshSession.open },
  ctx: { redactor: Redactor; logger: Logger; signal: AbortSignal },
): Promise<AgentSession> {
  const secret = openSecret(item.guid, resolveSeed(item.seed, deps.encryptSeed), item.password, ctx.redactor);
  const byKey = item.passwordType?.trim().toLowerCase() === 'key';
  const privateKey = byKey ? secret.replace(/\\n/g, '\n') : undefined;
  if (privateKey) ctx.redactor.register(privateKey);
  const target: SshTarget = { host: item.host, port: item.port, username: item.user, ...(byKey ? { privateKey } : { password: secret }) };
  const id = `${item.host}:${item.port}`;
  let hostKeyFingerprint: string | undefined;
  let hostKeyStatus: HostKeyStatus | undefined;
  const session = await (deps.open ?? SshSession.open)(target, {
    connectTimeoutMs: deps.settings.connectTimeoutMs,
    signal: ctx.signal,
    verifyHostKey: async (fp) => {
      hostKeyFingerprint = fp;
      hostKeyStatus = await checkHostKey({ id, fingerprint: fp, pinned: item.hostKeyFingerprint, policy: deps.settings.hostKeyPolicy, known: deps.knownHosts });
      if (hostKeyStatus === 'recorded') ctx.logger.info('ssh host key recorded on first use', { host: id, fingerprint: fp });
    },
  });
  const sudoInput = item.user === 'root' ? undefined : byKey ? '' : `${secret}\n`;
  return { session, hostKeyFingerprint, hostKeyStatus, sudoInput };
}

/**
 * Runs one command of a named step with the step timeout; a timeout or a non-zero exit throws
 * AgentInstallError naming the step (the script's last announced step when it has them) and the host.
 */
export async function runStep(
  agent: AgentSession,
  step: string,
  command: string,
  options: { timeoutS: number; privileged: boolean; maxOutputChars?: number },
): Promise<ExecResult> {
  const host = agent.session.target.host;
  const run = await agent.session.exec(command, {
    timeoutMs: options.timeoutS * 1000,
    maxOutputChars: options.maxOutputChars ?? 65_536,
    stdin: options.privileged ? agent.sudoInput : undefined,
  });
  const where = lastStep(run.stdout) ?? step;
  if (run.timedOut) throw new AgentInstallError(`Step ${where} on ${host} timed out after ${options.timeoutS} s`, host, where);
  if (run.code !== 0) {
    throw new AgentInstallError(
      `Step ${where} on ${host} failed (exit ${run.code ?? run.signal ?? 'unknown'}): ${failureText(run.stderr || run.stdout)}`,
      host,
      where,
    );
  }
  return run;
}

/** Proves the login user may use sudo (a no-op as root); a refusal names the user and host. */
export async function checkSudo(agent: AgentSession, timeoutS: number): Promise<void> {
  const { host, username } = agent.session.target;
  if (username === 'root') return;
  const run = await agent.session.exec(sudoCheckCommand(username), { timeoutMs: timeoutS * 1000, maxOutputChars: 4096, stdin: agent.sudoInput });
  if (run.timedOut) throw new AgentInstallError(`Step sudo on ${host} timed out after ${timeoutS} s`, host, 'sudo');
  if (run.code !== 0) {
    const why = run.stderr.replace(/\s+/g, ' ').trim().slice(0, 300) || `exit ${run.code}`;
    throw new AgentInstallError(`sudo was refused for ${username} on ${host}: ${why}`, host, 'sudo');
  }
}
