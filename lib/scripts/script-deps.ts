import type { Runtime } from '../runtime-types.js';
import { knownHostsOf } from '../ssh/s3-known-hosts.js';
import type { HostScriptDeps, HostScriptSettings } from './host-script-run.js';
import { MinionVersions } from './minion-versions.js';
import type { SshRunDeps } from './ssh-run.js';

// The settings below are read when first used (getters), not when the deps are built: the runtime may be a
// deferred one, whose config is parsed on the first call (serve-operation.ts).

/** The clients and settings of host-script/run* from the container's runtime (one version cache per container). */
export function hostScriptDeps(rt: Runtime): HostScriptDeps {
  let settings: HostScriptSettings | undefined;
  return {
    salt: rt.salt,
    store: rt.store,
    versions: new MinionVersions(rt.salt),
    get settings() {
      return (settings ??= {
        timeoutS: rt.config.scripts.timeoutS,
        outputMaxChars: rt.config.scripts.outputMaxChars,
        bucket: rt.config.s3.bucket,
        tempPrefix: rt.config.scripts.tempPrefix,
        presignExpiresS: rt.config.s3.presignExpiresS,
      });
    },
  };
}

/** The clients and settings of host-script/ssh-run: host keys recorded in the artifact bucket (memory without one). */
export function sshRunDeps(rt: Runtime): SshRunDeps {
  const knownHosts = knownHostsOf(rt);
  let settings: SshRunDeps['settings'] | undefined;
  return {
    store: rt.store,
    get knownHosts() {
      return knownHosts();
    },
    get encryptSeed() {
      return rt.config.encryptSeed;
    },
    get settings() {
      const { ssh, scripts } = rt.config;
      return (settings ??= {
        timeoutS: scripts.timeoutS,
        outputMaxChars: scripts.outputMaxChars,
        connectTimeoutMs: ssh.connectTimeoutMs,
        hostKeyPolicy: ssh.hostKeyPolicy,
      });
    },
  };
}
