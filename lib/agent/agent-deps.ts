import type { Runtime } from '../runtime-types.js';
import { knownHostsOf } from '../ssh/s3-known-hosts.js';
import type { AgentDeps } from './agent-install.js';

/**
 * The clients and settings of agent/* from the container's runtime; host keys shared with ssh-run. The
 * settings are read when first used (getters), not here: the runtime may be a deferred one.
 */
export function agentDeps(rt: Runtime): AgentDeps {
  const knownHosts = knownHostsOf(rt);
  let settings: AgentDeps['settings'] | undefined;
  return {
    salt: rt.salt,
    store: rt.store,
    get knownHosts() {
      return knownHosts();
    },
    get encryptSeed() {
      return rt.config.encryptSeed;
    },
    get settings() {
      const { s3, ssh, agent } = rt.config;
      return (settings ??= { ...agent, presignExpiresS: s3.presignExpiresS, connectTimeoutMs: ssh.connectTimeoutMs, hostKeyPolicy: ssh.hostKeyPolicy });
    },
  };
}
