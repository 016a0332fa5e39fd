import { describe, expect, it } from '@jest/globals';
import { loadConfig, SECRET_VARIABLES } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { readSecretValues } from '../../../lib/secrets/secret-values.js';

const ID = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:plugin-AbCdEf';
const KEY_A = Buffer.alloc(64, 7).toString('base64');
const KEY_B = Buffer.alloc(64, 9).toString('base64');

const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

describe('the variables the schema marks secret', () => {
  it('are the credentials, keys and seed, and nothing else', () => {
    expect([...SECRET_VARIABLES].sort()).toEqual(
      [
        'DEFAULT_S3_KEY',
        'DEFAULT_S3_PASSWORD',
        'ENCRYPT_SEED',
        'JWT_SIGNING_KEY',
        'RELEASE_WEBHOOK_SECRET',
        'S3_ACCESS_KEY',
        'S3_SECRET_KEY',
        'SALT_API_PASSWORD',
      ].sort(),
    );
  });
});

describe('readSecretValues', () => {
  it.each([
    ['an object of secret variables', '{"JWT_SIGNING_KEY":"k","ENCRYPT_SEED":"s"}', { JWT_SIGNING_KEY: 'k', ENCRYPT_SEED: 's' }, []],
    ['an empty object', '{}', {}, []],
    ['an unknown key', '{"ENCRYPT_SEED":"s","NOT_A_VARIABLE":"hush-1"}', { ENCRYPT_SEED: 's' }, ['holds "NOT_A_VARIABLE", which may not come from a secret']],
    ['a variable that is not secret', '{"LOG_LEVEL":"debug"}', {}, ['holds "LOG_LEVEL", which may not come from a secret']],
    ['a value that is not a string', '{"ENCRYPT_SEED":98765}', {}, ['holds ENCRYPT_SEED as number']],
    ['a null value', '{"SALT_API_PASSWORD":null}', {}, ['holds SALT_API_PASSWORD as null']],
    ['an array', '["hush-2"]', {}, ['is not a JSON object']],
    ['a JSON string', '"hush-3"', {}, ['is not a JSON object']],
    ['text that is not JSON', 'SALT_API_PASSWORD=hush-4', {}, ['is not JSON']],
  ])('reads %s', (_, text, values, problems) => {
    const read = readSecretValues(ID, text, SECRET_VARIABLES);
    expect(read.values).toEqual(values);
    expect(read.problems.map((p) => p.variable)).toEqual(problems.map(() => 'SECRETS_ID'));
    read.problems.forEach((p, i) => {
      expect(p.message).toContain(`the secret ${ID} `);
      expect(p.message).toContain(problems[i]);
      // the problem names keys, never a value
      expect(p.message).not.toMatch(/hush|98765|debug/);
    });
  });
});

describe('loadConfig over a secret', () => {
  const env = { STAGE: 'prod', JWT_SIGNING_KEY: KEY_A, ENCRYPT_SEED: 'env-seed', SALT_API_USER: 'ops' };

  it('takes each secret variable from the secret over the environment, the rest from the environment', () => {
    const config = loadConfig(env, { id: ID, text: JSON.stringify({ JWT_SIGNING_KEY: KEY_B, SALT_API_PASSWORD: 'from-secret' }) });
    expect(Buffer.from(config.jwtKey!).equals(Buffer.from(KEY_B, 'base64'))).toBe(true);
    expect(config.salt.password).toBe('from-secret');
    expect(config.salt.username).toBe('ops');
    expect(config.encryptSeed).toBe('env-seed');
  });

  it('needs no environment value for what the secret gives (JWT_SIGNING_KEY with AUTH_MODE=jwt)', () => {
    const config = loadConfig({ STAGE: 'prod' }, { id: ID, text: JSON.stringify({ JWT_SIGNING_KEY: KEY_B }) });
    expect(config.authMode).toBe('jwt');
    expect(config.jwtKey).toHaveLength(64);
  });

  it('reads S3 credentials under either name from the secret, and refuses half a pair as from the environment', () => {
    expect(loadConfig({ AUTH_MODE: 'off' }, { id: ID, text: '{"DEFAULT_S3_KEY":"AK","DEFAULT_S3_PASSWORD":"SK"}' }).s3.credentials).toEqual({
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
    });
    expect(() => loadConfig({ AUTH_MODE: 'off' }, { id: ID, text: '{"S3_ACCESS_KEY":"AK"}' })).toThrow(/S3_SECRET_KEY: required when S3_ACCESS_KEY is set/);
  });

  it('reports an unknown key of the secret together with every other problem, naming the key and not its value', () => {
    const error = errorOf(() =>
      loadConfig(
        { ...env, API_CONCURRENT_NUM: 'many' },
        { id: ID, text: JSON.stringify({ SALT_API_PASSWORD: 'pw-hush', SALT_API_URL: 'https://hush.example' }) },
      ),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^Configuration has 2 problems: /);
    expect(error.message).toContain(`SECRETS_ID: the secret ${ID} holds "SALT_API_URL", which may not come from a secret`);
    expect(error.message).toContain('API_CONCURRENT_NUM: must be an integer >= 1, got "many"');
    expect(error.message).not.toContain('hush');
  });

  it('refuses a bad value from the secret under the variable it sets, as from the environment', () => {
    expect(() => loadConfig({ STAGE: 'prod' }, { id: ID, text: JSON.stringify({ JWT_SIGNING_KEY: Buffer.alloc(8).toString('base64') }) })).toThrow(
      /JWT_SIGNING_KEY decodes to 8 bytes/,
    );
  });

  it('is exactly today without a secret: the environment alone', () => {
    expect(loadConfig(env)).toEqual(loadConfig(env, undefined));
    expect(loadConfig(env).secrets).toBeUndefined();
  });
});
