import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { Config } from '../config.js';
import type { BatchOptions } from '../salt/run-batched.js';
import type { SaltClient } from '../salt/salt-client.js';
import type { RunContext } from '../outcome.js';

/** What the host operations (files, users, disks) need: salt, the artifact store, the config. */
export interface HostDeps {
  salt: () => SaltClient;
  store: () => ArtifactStore;
  config: Pick<Config, 'salt' | 's3' | 'encryptSeed' | 'hosts'>;
}

/** Batch options for one request: the job deadline from SALT_JOB_TIMEOUT_S, the request's abort signal. */
export function batchOptions(deps: Pick<HostDeps, 'config'>, ctx: Pick<RunContext, 'signal'>, forceAsync = false): BatchOptions {
  return { deadlineMs: Date.now() + deps.config.salt.jobTimeoutS * 1000, signal: ctx.signal, forceAsync };
}
