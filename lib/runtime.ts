import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './log/logger.js';
import { SaltClient } from './salt/salt-client.js';

/** Clients shared by the handlers of one container: built once, salt lazily (not every operation needs it). */
export interface Runtime {
  config: Config;
  logger: Logger;
  salt(): SaltClient;
}

/** Builds a runtime from a config; the salt client is created on first use and reused. */
export function createRuntime(config: Config, logger: Logger = createLogger(config.logLevel)): Runtime {
  let salt: SaltClient | undefined;
  if (config.salt.password) logger.redactor.register(config.salt.password);
  return {
    config,
    logger,
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
        logger,
      })),
  };
}

let shared: Runtime | undefined;

/** The container's runtime, from the environment; throws ConfigError at cold start when misconfigured. */
export function getRuntime(): Runtime {
  return (shared ??= createRuntime(loadConfig()));
}
