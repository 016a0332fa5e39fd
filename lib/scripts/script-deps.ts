import type { Runtime } from '../runtime.js';
import { MemoryKnownHosts } from '../ssh/host-key-policy.js';
import { S3KnownHosts } from '../ssh/s3-known-hosts.js';
import type { HostScriptDeps } from './host-script-run.js';
import { MinionVersions } from './minion-versions.js';
import type { SshRunDeps } from './ssh-run.js';

/** The clients and settings of host-script/run* from the container's runtime (one version cache per container). */
export function hostScriptDeps(rt: Runtime): HostScriptDeps {
  return {
    salt: rt.salt,
    store: rt.store,
    versions: new MinionVersions(rt.salt),
    settings: {
      timeoutS: rt.config.scripts.timeoutS,
      outputMaxChars: rt.config.scripts.outputMaxChars,
      bucket: rt.config.s3.bucket,
      tempPrefix: rt.config.scripts.tempPrefix,
      presignExpiresS: rt.config.s3.presignExpiresS,
    },
  };
}

/** The clients and settings of host-script/ssh-run: host keys recorded in the artifact bucket (memory without one). */
export function sshRunDeps(rt: Runtime): SshRunDeps {
  const { s3, ssh, scripts, encryptSeed } = rt.config;
  return {
    store: rt.store,
    knownHosts: s3.bucket ? new S3KnownHosts(rt.store, s3.bucket, ssh.knownHostsPrefix) : new MemoryKnownHosts(),
    encryptSeed,
    settings: {
      timeoutS: scripts.timeoutS,
      outputMaxChars: scripts.outputMaxChars,
      connectTimeoutMs: ssh.connectTimeoutMs,
      hostKeyPolicy: ssh.hostKeyPolicy,
    },
  };
}
