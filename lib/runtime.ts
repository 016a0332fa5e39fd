/**
 * The composition root: the one place that reads the environment (through loadConfig) and decides which
 * adapter serves each port. Every function builds its runtime here, on its first call, once per container;
 * with SECRETS_ID, over the variables of that Secrets Manager secret, and again when it changed after its TTL.
 */
import { createS3Client, S3Store } from './artifacts/s3-store.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import { loadConfig, loadSecretsSettings, SECRET_VARIABLES, type Config, type SecretsSettings } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './log/logger.js';
import { AwsStepFunctions } from './releases/aws-step-functions.js';
import { EventBridgeReleaseEvents } from './releases/eventbridge-events.js';
import type { ReleaseEvents } from './releases/release-events.js';
import { WebhookReleaseEvents } from './releases/webhook-events.js';
import { LOCAL_STATE_MACHINE_ARN, type ReleaseRunner } from './releases/step-functions-port.js';
import type { Runtime } from './runtime-types.js';
import { SaltAdmission } from './salt/admission.js';
import { SaltClient } from './salt/salt-client.js';
import { AwsSecretsManager } from './secrets/aws-secrets-manager.js';
import { SecretCache } from './secrets/secret-cache.js';
import type { SecretSource } from './secrets/secret-source.js';
import { readSecretValues } from './secrets/secret-values.js';

export type { Runtime } from './runtime-types.js';

/**
 * The release runner a config asks for: AWS Step Functions (RELEASE_STATE_MACHINE_ARN), or with
 * RELEASE_RUNNER=local (the default of STAGE=local) the same ASL file run in-process, its Task resources
 * mapped to this runtime's release tasks. Throws ConfigError when AWS is asked for without an ARN.
 */
async function chooseReleaseRunner(rt: Runtime): Promise<ReleaseRunner> {
  if (rt.config.releases.runner === 'local') {
    // Literal imports, evaluated only here: the bundles carry these files but never run them on AWS, and
    // aws-local-stepfunctions itself stays out of them (local-step-functions.ts loads it on first start).
    const [{ LocalStepFunctions, readReleaseDefinition }, { releaseTasks }] = await Promise.all([
      import('./releases/local-step-functions.js'),
      import('./releases/release-tasks.js'),
    ]);
    return { port: new LocalStepFunctions(readReleaseDefinition(), releaseTasks(rt)), stateMachineArn: LOCAL_STATE_MACHINE_ARN };
  }
  const arn = rt.config.releases.stateMachineArn;
  if (!arn) throw new ConfigError('RELEASE_STATE_MACHINE_ARN is not set: releases cannot start');
  return { port: new AwsStepFunctions(), stateMachineArn: arn };
}

/** The destinations of release events a config names: the EventBridge bus, the webhook, both or none. */
function chooseReleaseEvents(events: Config['releases']['events']): ReleaseEvents[] {
  return [
    ...(events.bus ? [new EventBridgeReleaseEvents({ bus: events.bus, endpoint: events.endpoint })] : []),
    ...(events.webhook ? [new WebhookReleaseEvents(events.webhook)] : []),
  ];
}

/** Builds a runtime from a config; the salt client, the store and the release runner are created on first use and reused. */
export function createRuntime(config: Config, logger: Logger = createLogger(config.logLevel)): Runtime {
  let salt: SaltClient | undefined;
  let store: ArtifactStore | undefined;
  let runner: Promise<ReleaseRunner> | undefined;
  let events: ReleaseEvents[] | undefined;
  if (config.salt.password) logger.redactor.register(config.salt.password);
  if (config.releases.events.webhook) logger.redactor.register(config.releases.events.webhook.secret);
  const rt: Runtime = {
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
    releaseRunner: () => (runner ??= chooseReleaseRunner(rt)),
    releaseEvents: () => (events ??= chooseReleaseEvents(config.releases.events)),
  };
  return rt;
}

export interface RuntimeRootOptions {
  /** The environment, read on the first call (process.env in a container). */
  env: Record<string, string | undefined>;
  /** The adapter that reads SECRETS_ID: AWS Secrets Manager unless a test gives another. */
  secretSource?: (settings: SecretsSettings) => SecretSource;
  /** Milliseconds since the epoch, for the secret's TTL (tests move it). */
  now?: () => number;
  /** The logger of each runtime built (tests capture it); by default JSON lines on stdout. */
  logger?: (config: Config) => Logger;
}

/** The runtime of a container: built from its environment, and from its secret when SECRETS_ID is set. */
export interface RuntimeRoot {
  /**
   * The runtime last built. Without SECRETS_ID it is built here on the first read (a ConfigError is thrown
   * at every read until the environment is fixed); with it, only refresh() builds one.
   */
  current(): Runtime;
  /**
   * The current runtime, first fetching the secret of SECRETS_ID when it was never fetched or its TTL has
   * passed, and building a new runtime when its content changed (rotation). Throws SecretsError when the
   * secret cannot be read, ConfigError when the result does not parse (nothing kept: the next call fetches).
   */
  refresh(signal?: AbortSignal): Promise<Runtime>;
}

const awsSecrets = (settings: SecretsSettings): SecretSource => new AwsSecretsManager({ endpoint: settings.endpoint, region: settings.region });

/** The runtime root over an environment (and its secret); getRuntime/refreshRuntime use one over process.env. */
export function makeRuntimeRoot(options: RuntimeRootOptions): RuntimeRoot {
  let settings: SecretsSettings | null | undefined;
  let cache: SecretCache | undefined;
  let built: { runtime: Runtime; secretText?: string } | undefined;
  const secretsOf = () => (settings !== undefined ? settings : (settings = loadSecretsSettings(options.env) ?? null));
  const build = (config: Config) => createRuntime(config, options.logger?.(config) ?? createLogger(config.logLevel));

  const current = (): Runtime => {
    if (built) return built.runtime;
    if (secretsOf()) throw new Error('SECRETS_ID is set: the runtime is built by refresh(), once the secret is fetched');
    built = { runtime: build(loadConfig(options.env)) };
    return built.runtime;
  };

  return {
    current,
    async refresh(signal) {
      const secrets = secretsOf();
      if (!secrets) return current();
      cache ??= new SecretCache({ source: (options.secretSource ?? awsSecrets)(secrets), id: secrets.id, ttlS: secrets.ttlS, now: options.now });
      const text = await cache.get(signal);
      if (built?.secretText === text) return built.runtime;
      let runtime: Runtime;
      try {
        runtime = build(loadConfig(options.env, { id: secrets.id, text }));
      } catch (error) {
        cache.invalidate();
        throw error;
      }
      // Every value the secret gave is masked in this runtime's logs, wherever it appears.
      for (const value of Object.values(readSecretValues(secrets.id, text, SECRET_VARIABLES).values)) runtime.logger.redactor.register(value);
      built = { runtime, secretText: text };
      return runtime;
    },
  };
}

let root: RuntimeRoot | undefined;
const containerRoot = () => (root ??= makeRuntimeRoot({ env: process.env }));

/**
 * The container's runtime, from the environment, built on the first call and reused. Throws ConfigError when
 * misconfigured, at every call until fixed (nothing is kept from a failed attempt). With SECRETS_ID, the one
 * refreshRuntime() built last (entry points await that first).
 */
export function getRuntime(): Runtime {
  return containerRoot().current();
}

/** The container's runtime brought up to date (SECRETS_ID fetched, or fetched again past SECRETS_TTL_S): every entry point awaits it. */
export function refreshRuntime(signal?: AbortSignal): Promise<Runtime> {
  return containerRoot().refresh(signal);
}

/**
 * A runtime that builds the real one (getRuntime) when a member is first read. Functions declare their
 * operation at import (the local server and the OpenAPI generator read its schemas) but must not read the
 * environment then: a misconfigured function answers its first call with the ConfigError instead of
 * failing to load. So factories given this runtime may keep `rt.config` or `rt.salt` but read a setting
 * only inside `run`: `config` is a view whose every field is read from the real config when it is read.
 */
export function deferredRuntime(
  resolve: () => Runtime = getRuntime,
  refresh: ((signal?: AbortSignal) => Promise<unknown>) | undefined = resolve === getRuntime ? refreshRuntime : undefined,
): Runtime {
  const real = (): Config => resolve().config;
  // A Proxy rather than a copy: the fields exist only once the environment is parsed.
  const config = new Proxy({} as Config, {
    get: (_, key) => Reflect.get(real(), key),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    set: () => false,
  });
  return {
    config,
    get logger() {
      return resolve().logger;
    },
    salt: () => resolve().salt(),
    store: () => resolve().store(),
    releaseRunner: () => resolve().releaseRunner(),
    ...(refresh && { ready: async (signal?: AbortSignal) => void (await refresh(signal)) }),
    releaseEvents: () => resolve().releaseEvents(),
  };
}

/**
 * A handler built on its first call over the container's runtime (refreshRuntime) and reused until that
 * runtime is replaced (a rotated secret); a build that throws is tried again next call.
 */
export function builtOnFirstCall<E, R>(
  build: (rt: Runtime) => (event: E) => Promise<R>,
  refresh: () => Promise<Runtime> = refreshRuntime,
): (event: E) => Promise<R> {
  let built: { rt: Runtime; handler: (event: E) => Promise<R> } | undefined;
  return async (event) => {
    const rt = await refresh();
    if (built?.rt !== rt) built = { rt, handler: build(rt) };
    return built.handler(event);
  };
}
