import { z } from 'zod';
import { AgentInstallError, ConfigError, PluginError } from '../errors.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { parseEndpoint } from '../artifacts/parse-endpoint.js';
import type { SaltClient } from '../salt/salt-client.js';
import type { KnownHosts } from '../ssh/host-key-policy.js';
import type { SshSession } from '../ssh/ssh-session.js';
import { shellJoin } from '../scripts/shell-quote.js';
import { looseString } from '../input/fields.js';
import { defineOperation, eachOutcome, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { acceptMinionKey } from './accept-minion-key.js';
import { agentOutputFields, agentSshFields } from './agent-fields.js';
import { checkSudo, openAgentSession, runStep, type AgentSession, type AgentSshSettings } from './agent-session.js';
import { minionConfig, minionPaths } from './minion-config.js';
import { installCommand, type InstallMethod } from './remote-scripts.js';
import { extractMinionPub, saltKeyFinger } from './salt-key-finger.js';
import { waitForPing } from './wait-for-ping.js';

export interface AgentDeps {
  salt: () => Pick<SaltClient, 'wheel' | 'local'>;
  /** Presigns the offline bundle's URL (method bundle). */
  store: () => Pick<ArtifactStore, 'presignGet'>;
  knownHosts: KnownHosts;
  encryptSeed: string | undefined;
  settings: AgentSshSettings & {
    masters: string[];
    masterPort: number;
    publishPort: number | undefined;
    configDir: string;
    minionBin: string;
    defaultMethod: InstallMethod;
    bootstrapUrl: string;
    bundleUrl: string | undefined;
    presignExpiresS: number;
    keyWaitS: number;
    pingWaitS: number;
  };
  open?: typeof SshSession.open;
}

const output = z.object({
  ...agentOutputFields,
  minionId: z.string().optional(),
  method: z.string().optional(),
  keyFingerprint: z.string().optional().describe("Salt fingerprint (key.finger) of the minion's public key, read from the host"),
  keyStatus: z.enum(['accepted', 'known', 'replaced']).optional(),
});
type InstallOutput = z.infer<typeof output>;

/**
 * agent/install: over SSH (sudo for non-root users), installs salt-minion by the item's method, writes
 * its config (masters, id = host IP, master_port) and starts it; then accepts its key on the master only
 * when the fingerprint matches the one read from the host, and waits until test.ping answers.
 */
export const agentInstall = (deps: AgentDeps) => {
  const input = z.object({
    ...agentSshFields(),
    command: looseString(),
    // Accepted for older callers: a changed key is replaced without it (the host proved itself over SSH).
    reinstall: looseString().describe('no longer needed: a host whose minion key changed (re-imaged) gets its new key accepted'),
  });

  const bundleUrl = async (): Promise<string> => {
    if (!deps.settings.bundleUrl) throw new ConfigError('Method bundle needs AGENT_BUNDLE_URL (the S3 endpoint of the offline bundle)');
    return deps.store().presignGet(parseEndpoint(deps.settings.bundleUrl), deps.settings.presignExpiresS);
  };

  const runItem = async (item: z.output<typeof input>, ctx: RunContext): Promise<ItemOutcome<InstallOutput>> => {
    const method = item.method ?? deps.settings.defaultMethod; // the setting's default, read per call
    if (!deps.settings.masters.length) {
      throw new ConfigError('Dependent environment param AGENT_MINION_MASTERS (minion_master_ip) is empty, please check environment params.');
    }
    const id = item.host.trim();
    const done: string[] = [];
    const out: InstallOutput = { host: id, minionId: id, method };
    const fail = (error: unknown): ItemOutcome<InstallOutput> => ({ ok: false, error, output: { ...out, detail: done.join('; ') } });
    const stepS = deps.settings.commandTimeoutS;
    const totalMs = deps.settings.connectTimeoutMs + (3 * stepS + deps.settings.keyWaitS + deps.settings.pingWaitS + 30) * 1000;
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(totalMs)]);
    let agent: AgentSession | undefined;
    try {
      agent = await openAgentSession(item, deps, { redactor: ctx.logger.redactor, logger: ctx.logger, signal });
      out.hostKeyFingerprint = agent.hostKeyFingerprint;
      out.hostKeyStatus = agent.hostKeyStatus;
      done.push(`ssh ${item.user}@${id}:${item.port} (host key ${agent.hostKeyStatus} ${agent.hostKeyFingerprint})`);
      await checkSudo(agent, stepS);
      if (item.user !== 'root') done.push('sudo ok');
      if (item.command?.trim()) {
        await runStep(agent, 'command', shellJoin(['sh', '-c', item.command]), { timeoutS: stepS, privileged: false });
        done.push('pre-command ok');
      }
      const url = method === 'bundle' ? await bundleUrl() : deps.settings.bootstrapUrl;
      const paths = minionPaths(deps.settings.configDir);
      const config = minionConfig({ id, masters: deps.settings.masters, masterPort: deps.settings.masterPort, publishPort: deps.settings.publishPort, paths });
      const run = await runStep(agent, 'install', installCommand(item.user, { method, paths, minionBin: deps.settings.minionBin, config, url }), {
        timeoutS: stepS,
        privileged: true,
      });
      done.push(`${method === 'preinstalled' ? 'configured' : `installed (${method}) and configured`} ${paths.configFile}, salt-minion started`);
      const pub = extractMinionPub(run.stdout);
      const finger = pub && saltKeyFinger(pub);
      if (!finger) throw new AgentInstallError(`Step wait-key on ${id}: the install did not print the minion's public key`, id, 'wait-key');
      out.keyFingerprint = finger;
      agent.session.close();
      agent = undefined;
      const salt = deps.salt();
      out.keyStatus = await acceptMinionKey({
        wheel: (fun, kwarg, s) => salt.wheel(fun, kwarg, s),
        id,
        finger,
        waitMs: deps.settings.keyWaitS * 1000,
        signal,
        onReplace: (old) => {
          done.push(`the master's key for ${id} (fingerprint ${old ?? 'unknown'}) was not the host's: replaced`);
          ctx.logger.warn('minion key replaced', { host: id, oldFingerprint: old, fingerprint: finger });
        },
      });
      done.push(`key ${finger} ${out.keyStatus === 'known' ? 'already accepted' : out.keyStatus}`);
      const ms = await waitForPing(salt, id, deps.settings.pingWaitS * 1000, signal);
      done.push(`test.ping answered after ${(ms / 1000).toFixed(1)} s`);
      out.detail = done.join('; ');
      ctx.logger.info('agent installed', { host: id, method, keyStatus: out.keyStatus });
      return { ok: true, output: out };
    } catch (error) {
      if (!(error instanceof PluginError) && signal.aborted && !ctx.signal.aborted) {
        return fail(new AgentInstallError(`agent/install on ${id} exceeded its ${Math.round(totalMs / 1000)} s budget`, id, 'total'));
      }
      return fail(error);
    } finally {
      agent?.session.close();
    }
  };

  return defineOperation({
    plugin: 'agent',
    action: 'install',
    summary: 'Install, configure and start salt-minion over SSH; accept its key by fingerprint; wait for test.ping',
    input,
    output,
    run: eachOutcome(runItem),
  });
};
