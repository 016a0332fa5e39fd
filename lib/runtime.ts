/**
 * The composition root: the one place that reads the environment (through loadConfig) and decides which
 * adapter serves each port. Every function builds its runtime here, on its first call, once per container.
 */
import { createS3Client, S3Store } from './artifacts/s3-store.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import { loadConfig, type Config } from './config.js';
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

let shared: Runtime | undefined;

/**
 * The container's runtime, from the environment, built on the first call and reused. Throws ConfigError when
 * misconfigured, at every call until fixed (nothing is kept from a failed attempt).
 */
export function getRuntime(): Runtime {
  return (shared ??= createRuntime(loadConfig()));
}

/**
 * A runtime that builds the real one (getRuntime) when a member is first read. Functions declare their
 * operation at import (the local server and the OpenAPI generator read its schemas) but must not read the
 * environment then: a misconfigured function answers its first call with the ConfigError instead of
 * failing to load. So factories given this runtime may keep `rt.config` or `rt.salt` but read a setting
 * only inside `run`: `config` is a view whose every field is read from the real config when it is read.
 */
export function deferredRuntime(resolve: () => Runtime = getRuntime): Runtime {
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
    releaseEvents: () => resolve().releaseEvents(),
  };
}

/** A handler built on its first call (from getRuntime) and reused; a build that throws is tried again next call. */
export function builtOnFirstCall<E, R>(build: () => (event: E) => Promise<R>): (event: E) => Promise<R> {
  let built: ((event: E) => Promise<R>) | undefined;
  return async (event) => (built ??= build())(event);
}
