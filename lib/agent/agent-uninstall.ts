import { z } from 'zod';
import { AgentInstallError, PluginError } from '../errors.js';
import { defineOperation, eachOutcome, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { agentOutputFields, agentSshFields } from './agent-fields.js';
import type { AgentDeps } from './agent-install.js';
import { checkSudo, openAgentSession, runStep, type AgentSession } from './agent-session.js';
import { minionPaths } from './minion-config.js';
import { uninstallCommand } from './remote-scripts.js';

const output = z.object({ ...agentOutputFields, keyDeleted: z.boolean().optional().describe('The minion key of the host is gone from the master') });
type UninstallOutput = z.infer<typeof output>;

/**
 * agent/uninstall: stops salt-minion over SSH and removes the package (repository, bootstrap) or only its
 * config and keys (preinstalled); then, whatever the SSH part gave (as upstream), deletes the host's key
 * on the master (wheel key.delete) and checks it is gone. Idempotent.
 */
export const agentUninstall = (deps: AgentDeps) => {
  const input = z.object(agentSshFields());

  const runItem = async (item: z.output<typeof input>, ctx: RunContext): Promise<ItemOutcome<UninstallOutput>> => {
    const method = item.method ?? deps.settings.defaultMethod; // the setting's default, read per call
    const id = item.host.trim();
    const done: string[] = [];
    const out: UninstallOutput = { host: id };
    const stepS = deps.settings.commandTimeoutS;
    const totalMs = deps.settings.connectTimeoutMs + (2 * stepS + 60) * 1000;
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(totalMs)]);
    let sshError: unknown;
    let agent: AgentSession | undefined;
    try {
      agent = await openAgentSession(item, deps, { redactor: ctx.logger.redactor, logger: ctx.logger, signal });
      out.hostKeyFingerprint = agent.hostKeyFingerprint;
      out.hostKeyStatus = agent.hostKeyStatus;
      done.push(`ssh ${item.user}@${id}:${item.port} (host key ${agent.hostKeyStatus} ${agent.hostKeyFingerprint})`);
      await checkSudo(agent, stepS);
      await runStep(agent, 'uninstall', uninstallCommand(item.user, { method: method, paths: minionPaths(deps.settings.configDir) }), {
        timeoutS: stepS,
        privileged: true,
      });
      done.push(`salt-minion stopped and ${method === 'preinstalled' ? 'its config and keys' : 'its package'} removed`);
    } catch (error) {
      sshError = error instanceof PluginError || !signal.aborted ? error : new AgentInstallError(`agent/uninstall on ${id} exceeded its budget`, id, 'total');
    } finally {
      agent?.session.close();
    }
    try {
      const salt = deps.salt();
      await salt.wheel('key.delete', { match: id }, signal);
      const keys = (await salt.wheel('key.list_all', {}, signal)) as Record<string, unknown>;
      out.keyDeleted = !Object.entries(keys).some(([state, list]) => state !== 'local' && Array.isArray(list) && list.includes(id));
      done.push(out.keyDeleted ? 'key deleted on the master' : 'key still listed on the master');
      if (!out.keyDeleted && !sshError) sshError = new AgentInstallError(`The key of ${id} is still listed on the master after key.delete`, id, 'delete-key');
    } catch (error) {
      sshError ??= error;
    }
    out.detail = done.join('; ');
    return sshError ? { ok: false, error: sshError, output: out } : { ok: true, output: out };
  };

  return defineOperation({
    plugin: 'agent',
    action: 'uninstall',
    summary: 'Stop and remove salt-minion over SSH and delete its key on the master (idempotent)',
    input,
    output,
    run: eachOutcome(runItem),
  });
};
