import type { Runtime } from '../runtime-types.js';
import { MemoryKnownHosts, type KnownHosts } from '../ssh/host-key-policy.js';
import { S3KnownHosts } from '../ssh/s3-known-hosts.js';
import type { AgentDeps } from './agent-install.js';

/**
 * The clients and settings of agent/* from the container's runtime; host keys shared with ssh-run. The
 * settings are read when first used (getters), not here: the runtime may be a deferred one.
 */
export function agentDeps(rt: Runtime): AgentDeps {
  let knownHosts: KnownHosts | undefined;
  let settings: AgentDeps['settings'] | undefined;
  return {
    salt: rt.salt,
    store: rt.store,
    get knownHosts() {
      const { s3, ssh } = rt.config;
      return (knownHosts ??= s3.bucket ? new S3KnownHosts(rt.store, s3.bucket, ssh.knownHostsPrefix) : new MemoryKnownHosts());
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
