import type { ArtifactStore } from './artifacts/artifact-store.js';
import { createS3Client, S3Store } from './artifacts/s3-store.js';
import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './log/logger.js';
import { SaltAdmission } from './salt/admission.js';
import { SaltClient } from './salt/salt-client.js';

/** Clients shared by the handlers of one container: built once, salt lazily (not every operation needs it). */
export interface Runtime {
  config: Config;
  logger: Logger;
  salt(): SaltClient;
  /** The S3 artifact store (config.s3), built on first use and reused. */
  store(): ArtifactStore;
}

/** Builds a runtime from a config; the salt client is created on first use and reused. */
export function createRuntime(config: Config, logger: Logger = createLogger(config.logLevel)): Runtime {
  let salt: SaltClient | undefined;
  let store: ArtifactStore | undefined;
  if (config.salt.password) logger.redactor.register(config.salt.password);
  return {
    config,
    logger,
    store: () => (store ??= new S3Store(createS3Client(config.s3))),
    salt: () =>
      (salt ??= new SaltClient({
        url: config.salt.url,
        eauth: config.salt.eauth,
        username: config.salt.username,
        password: config.salt.password,
        ca: config.salt.ca,
        insecure: config.salt.insecure,
        timeoutMs: config.salt.timeoutMs,
        loginTimeoutMs: config.salt.loginTimeoutMs,
        replyMaxBytes: config.salt.replyMaxBytes,
        admission: new SaltAdmission({ perMinion: config.salt.maxJobsPerMinion, total: config.salt.maxJobs }),
        logger,
      })),
  };
}

let shared: Runtime | undefined;

/** The container's runtime, from the environment; throws ConfigError at cold start when misconfigured. */
export function getRuntime(): Runtime {
  return (shared ??= createRuntime(loadConfig()));
}
