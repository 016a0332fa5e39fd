import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { AwsStepFunctions } from '../../lib/releases/aws-step-functions.js';
import { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { LOCAL_STATE_MACHINE_ARN } from '../../lib/releases/step-functions-port.js';
import { builtOnFirstCall, createRuntime, deferredRuntime } from '../../lib/runtime.js';
import { captureLogger } from './helpers.js';

describe('createRuntime', () => {
  it('registers SALT_API_PASSWORD for redaction before anything logs', () => {
    const { logger, lines } = captureLogger();
    createRuntime(loadConfig({ AUTH_MODE: 'off', SALT_API_PASSWORD: 'salt-api-pw-77' }), logger);
    logger.error('login failed', { detail: 'curl -d password=salt-api-pw-77' });
    expect(lines[0]).not.toContain('salt-api-pw-77');
  });

  it('builds the salt client lazily, once per container', () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off', SALT_API_URL: 'http://127.0.0.1:1' }), captureLogger().logger);
    const first = runtime.salt();
    expect(runtime.salt()).toBe(first);
  });
});

describe('the release runner the composition root chooses', () => {
  it('is AWS Step Functions on the configured state machine with RELEASE_RUNNER=aws', async () => {
    const arn = 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:release';
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off', RELEASE_RUNNER: 'aws', RELEASE_STATE_MACHINE_ARN: arn }), captureLogger().logger);
    const runner = await runtime.releaseRunner();
    expect(runner.port).toBeInstanceOf(AwsStepFunctions);
    expect(runner.stateMachineArn).toBe(arn);
    expect(await runtime.releaseRunner()).toBe(runner);
  });

  it('refuses AWS without RELEASE_STATE_MACHINE_ARN with a ConfigError, when a release needs it', async () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off', RELEASE_RUNNER: 'aws' }), captureLogger().logger);
    await expect(runtime.releaseRunner()).rejects.toThrow(new ConfigError('RELEASE_STATE_MACHINE_ARN is not set: releases cannot start'));
  });

  it('is the in-process runner on the local state machine with RELEASE_RUNNER=local', async () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off', RELEASE_RUNNER: 'local' }), captureLogger().logger);
    const runner = await runtime.releaseRunner();
    expect(runner.port).toBeInstanceOf(LocalStepFunctions);
    expect(runner.stateMachineArn).toBe(LOCAL_STATE_MACHINE_ARN);
  });
});

describe('deferredRuntime', () => {
  const counting = () => {
    let built = 0;
    const real = createRuntime(loadConfig({ AUTH_MODE: 'off', ENCRYPT_SEED: 'seed-1' }), captureLogger().logger);
    return { resolve: () => (built++, real), built: () => built, real };
  };

  it('builds nothing until a member is read, then reads through to the real runtime', () => {
    const { resolve, built, real } = counting();
    const rt = deferredRuntime(resolve);
    const { config, salt, store } = rt;
    expect(built()).toBe(0);
    expect(config.encryptSeed).toBe('seed-1');
    expect({ ...config }).toEqual(real.config);
    expect('salt' in config).toBe(true);
    expect(salt()).toBe(real.salt());
    expect(store()).toBe(real.store());
    expect(rt.logger).toBe(real.logger);
    expect(built()).toBeGreaterThan(0);
  });

  it('throws the ConfigError of the environment on the first read, not when made', () => {
    const rt = deferredRuntime(() => createRuntime(loadConfig({ API_CONCURRENT_NUM: 'many' })));
    const config = rt.config;
    expect(() => config.itemConcurrency).toThrow(ConfigError);
    expect(() => rt.logger).toThrow(/API_CONCURRENT_NUM/);
  });
});

describe('builtOnFirstCall', () => {
  it('builds the handler on the first call only, and again after a build that threw', async () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off' }), captureLogger().logger);
    let builds = 0;
    let fail = true;
    const handler = builtOnFirstCall(
      (rt) => {
        builds++;
        if (fail) throw new ConfigError('not yet');
        return async (n: number) => n + (rt === runtime ? 1 : 100);
      },
      async () => runtime,
    );
    expect(builds).toBe(0);
    await expect(handler(1)).rejects.toThrow(ConfigError);
    fail = false;
    expect(await handler(1)).toBe(2);
    expect(await handler(2)).toBe(3);
    expect(builds).toBe(2);
  });

  it('builds it again over the new runtime when the runtime was replaced (a rotated secret)', async () => {
    const runtimes = [1, 2].map((n) => createRuntime(loadConfig({ AUTH_MODE: 'off', ENCRYPT_SEED: `seed-${n}` }), captureLogger().logger));
    let current = runtimes[0]!;
    const handler = builtOnFirstCall(
      (rt) => async () => rt.config.encryptSeed,
      async () => current,
    );
    expect(await handler(undefined)).toBe('seed-1');
    expect(await handler(undefined)).toBe('seed-1');
    current = runtimes[1]!;
    expect(await handler(undefined)).toBe('seed-2');
  });
});
