import type { Runtime } from '../runtime.js';
import { MemoryKnownHosts } from '../ssh/host-key-policy.js';
import { S3KnownHosts } from '../ssh/s3-known-hosts.js';
import type { AgentDeps } from './agent-install.js';

/** The clients and settings of agent/* from the container's runtime; host keys shared with ssh-run. */
export function agentDeps(rt: Runtime): AgentDeps {
  const { s3, ssh, agent, encryptSeed } = rt.config;
  return {
    salt: rt.salt,
    store: rt.store,
    knownHosts: s3.bucket ? new S3KnownHosts(rt.store, s3.bucket, ssh.knownHostsPrefix) : new MemoryKnownHosts(),
    encryptSeed,
    settings: { ...agent, presignExpiresS: s3.presignExpiresS, connectTimeoutMs: ssh.connectTimeoutMs, hostKeyPolicy: ssh.hostKeyPolicy },
  };
}
