import { describe, expect, it } from '@jest/globals';
import { ConfigError, SecretsError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log/logger.js';
import { deferredRuntime, makeRuntimeRoot } from '../../../lib/runtime.js';
import { translateSecretsError } from '../../../lib/secrets/aws-secrets-manager.js';
import { fakeSource } from './fake-secret-source.js';

const ID = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:plugin-AbCdEf';
const SEED_1 = 'seed-one-Xq7';
const SEED_2 = 'seed-two-Zp4';
const PASSWORD = 'salt-pw-Hh3';

/** A root over `env` whose secret is the fake's, on a clock the test moves, its logs captured. */
function setup(env: Record<string, string>, secret: Record<string, unknown> = { ENCRYPT_SEED: SEED_1, SALT_API_PASSWORD: PASSWORD }) {
  const { source, state } = fakeSource(JSON.stringify(secret));
  let t = 0;
  const lines: string[] = [];
  const asked: unknown[] = [];
  const root = makeRuntimeRoot({
    env,
    secretSource: (settings) => (asked.push(settings), source),
    now: () => t,
    logger: (config) => createLogger(config.logLevel, (line) => lines.push(line)),
  });
  return { root, state, lines, asked, advance: (s: number) => void (t += s * 1000) };
}

const withSecret = { AUTH_MODE: 'off', SECRETS_ID: ID, SECRETS_TTL_S: '60', SECRETS_ENDPOINT: 'http://127.0.0.1:4566' };

describe('makeRuntimeRoot without SECRETS_ID', () => {
  it('builds the runtime from the environment alone, once, and never asks for a secret', async () => {
    const { root, asked } = setup({ AUTH_MODE: 'off', ENCRYPT_SEED: 'env-seed' });
    const rt = root.current();
    expect(rt.config.encryptSeed).toBe('env-seed');
    expect(await root.refresh()).toBe(rt);
    expect(root.current()).toBe(rt);
    expect(asked).toEqual([]);
  });

  it('throws the ConfigError of the environment at every call, as before', async () => {
    const { root } = setup({ API_CONCURRENT_NUM: 'many' });
    expect(() => root.current()).toThrow(ConfigError);
    await expect(root.refresh()).rejects.toThrow(/API_CONCURRENT_NUM/);
  });
});

describe('makeRuntimeRoot with SECRETS_ID', () => {
  it('reads nothing before the first refresh, then builds the runtime over the secret', async () => {
    const { root, state, asked } = setup({ ...withSecret, ENCRYPT_SEED: 'env-seed' });
    expect(() => root.current()).toThrow(/SECRETS_ID is set/);
    expect(state.fetches).toBe(0);
    const rt = await root.refresh();
    expect(rt.config.encryptSeed).toBe(SEED_1);
    expect(rt.config.salt.password).toBe(PASSWORD);
    expect(rt.config.secrets).toEqual({ id: ID, ttlS: 60, endpoint: 'http://127.0.0.1:4566', region: 'ap-southeast-1' });
    expect(asked).toEqual([rt.config.secrets]);
    expect(root.current()).toBe(rt);
  });

  it('uses the fetched secret until its TTL, refetches after it, and rebuilds the runtime only when the secret changed', async () => {
    const { root, state, advance } = setup(withSecret);
    const first = await root.refresh();
    advance(59);
    expect(await root.refresh()).toBe(first);
    expect(state.fetches).toBe(1);
    advance(1);
    expect(await root.refresh()).toBe(first); // refetched, unchanged: same clients, no re-login
    expect(state.fetches).toBe(2);
    state.text = JSON.stringify({ ENCRYPT_SEED: SEED_2 });
    advance(30);
    expect((await root.refresh()).config.encryptSeed).toBe(SEED_1);
    advance(30);
    const rotated = await root.refresh();
    expect(state.fetches).toBe(3);
    expect(rotated).not.toBe(first);
    expect(rotated.config.encryptSeed).toBe(SEED_2);
    expect(rotated.config.salt.password).toBe('');
    expect(root.current()).toBe(rotated);
  });

  it('with SECRETS_TTL_S=0 fetches once for the life of the container', async () => {
    const { root, state, advance } = setup({ ...withSecret, SECRETS_TTL_S: '0' });
    await root.refresh();
    advance(365 * 86_400);
    await root.refresh();
    expect(state.fetches).toBe(1);
  });

  it('refuses a secret with an unknown key, naming the key, and takes the fixed secret on the next call', async () => {
    const { root, state } = setup(withSecret, { ENCRYPT_SEED: SEED_1, SALT_API_URL: 'https://elsewhere' });
    const refused = root.refresh();
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(`SECRETS_ID: the secret ${ID} holds "SALT_API_URL", which may not come from a secret`);
    await expect(refused).rejects.not.toThrow(SEED_1);
    state.text = JSON.stringify({ ENCRYPT_SEED: SEED_1 });
    expect((await root.refresh()).config.encryptSeed).toBe(SEED_1);
    expect(state.fetches).toBe(2);
  });

  it('passes on the SecretsError of a failed fetch, and fetches again on the next call', async () => {
    const { root, state } = setup(withSecret);
    state.failure = new SecretsError('Secrets Manager refused to read the secret s (AccessDeniedException): ...', ID, 'AccessDeniedException');
    await expect(root.refresh()).rejects.toBeInstanceOf(SecretsError);
    state.failure = undefined;
    await expect(root.refresh()).resolves.toBeDefined();
    expect(state.fetches).toBe(2);
  });

  it('masks every value of the secret in the logs of the runtime built over it', async () => {
    const { root, lines } = setup(withSecret);
    const rt = await root.refresh();
    rt.logger.error('salt said', { detail: `login failed for seed ${SEED_1} and password ${PASSWORD}` });
    expect(lines.join('\n')).not.toContain(SEED_1);
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(lines.join('\n')).toContain('[redacted]');
  });

  it('refuses bad SECRETS_* values before asking for anything, every problem at once', async () => {
    const { root, asked } = setup({ ...withSecret, SECRETS_TTL_S: '-5', SECRETS_ENDPOINT: 'nowhere' });
    await expect(root.refresh()).rejects.toThrow(
      'Configuration has 2 problems: SECRETS_TTL_S: must be an integer >= 0, got "-5"; SECRETS_ENDPOINT: "nowhere" is not a URL',
    );
    expect(asked).toEqual([]);
  });

  it("is refreshed by a deferred runtime's ready(), which handlers await first", async () => {
    const { root, state } = setup(withSecret);
    const rt = deferredRuntime(root.current, root.refresh);
    await rt.ready?.();
    expect(state.fetches).toBe(1);
    expect(rt.config.encryptSeed).toBe(SEED_1);
  });
});

describe('translateSecretsError', () => {
  const LEAKY = 'value hush-Qw9 of the request';
  it.each([
    ['ResourceNotFoundException', 'no such secret: check SECRETS_ID'],
    ['AccessDeniedException', 'grant secretsmanager:GetSecretValue on this secret'],
    ['DecryptionFailure', 'kms:Decrypt'],
    ['TimeoutError', 'did not answer in time'],
    ['ThrottlingException', 'retry later'],
  ])('names the secret and %s, with what to do, and never the SDK message', (name, advice) => {
    const sdkError = Object.assign(new Error(LEAKY), { name, $metadata: { httpStatusCode: 400 }, $response: { body: LEAKY } });
    const error = translateSecretsError(sdkError, ID);
    expect(error).toBeInstanceOf(SecretsError);
    expect(error.name).toBe('SecretsError');
    expect([error.secretId, error.awsCode]).toEqual([ID, name]);
    expect(error.message).toContain(`the secret ${ID} (${name})`);
    expect(error.message).toContain(advice);
    expect(error.message).not.toContain('hush');
    expect(error.cause).toBeUndefined();
  });

  it('names the code of a plain network error (ECONNREFUSED)', () => {
    const error = translateSecretsError(Object.assign(new Error(`connect ECONNREFUSED ${LEAKY}`), { code: 'ECONNREFUSED' }), ID);
    expect(error.awsCode).toBe('ECONNREFUSED');
    expect(error.message).toContain('cannot be reached');
    expect(error.message).not.toContain('hush');
  });

  it.each([
    ['a plain Error', new Error(LEAKY)],
    ['a name that is not an identifier', Object.assign(new Error('x'), { name: LEAKY })],
    ['not an error at all', LEAKY],
  ])('calls %s UnknownError', (_, thrown) => {
    const error = translateSecretsError(thrown, ID);
    expect(error.awsCode).toBe('UnknownError');
    expect(error.message).not.toContain('hush');
  });
});
