import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwtKey, loadConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

// 64 bytes (long enough for HS512) chosen so the standard base64 has '+' and '/' and ends in '==' padding.
const KEY_BYTES = Buffer.from([0xfb, 0xff, 0xbf, ...Array.from({ length: 60 }, (_, i) => (i * 37 + 11) & 0xff), 0xfe]);
const STD = KEY_BYTES.toString('base64');
const jwtEnv = (extra: Record<string, string> = {}) => ({ JWT_SIGNING_KEY: STD, ...extra });

const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AUTH_MODE', () => {
  it.each(['dev', 'prod', 'LOCAL'])('refuses AUTH_MODE=off when STAGE=%s', (stage) => {
    const error = errorOf(() => loadConfig({ AUTH_MODE: 'off', STAGE: stage }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('AUTH_MODE=off');
    expect(error.message).toContain('STAGE=local');
  });

  it('allows AUTH_MODE=off on the local stage (the default stage)', () => {
    const config = loadConfig({ AUTH_MODE: 'off' });
    expect(config.authMode).toBe('off');
    expect(config.stage).toBe('local');
    expect(config.jwtKey).toBeUndefined();
  });

  it.each([
    ['unset (jwt is the default)', {}],
    ['jwt without a key', { AUTH_MODE: 'jwt', STAGE: 'prod' }],
    ['jwt with a blank key', { AUTH_MODE: 'jwt', JWT_SIGNING_KEY: '   ' }],
  ])('refuses AUTH_MODE %s, naming JWT_SIGNING_KEY', (_name, env) => {
    const error = errorOf(() => loadConfig(env));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('JWT_SIGNING_KEY');
  });

  it('refuses an unknown AUTH_MODE, naming the variable', () => {
    expect(() => loadConfig({ AUTH_MODE: 'none', ...jwtEnv() })).toThrow(/AUTH_MODE/);
  });
});

describe('JWT_SIGNING_KEY decoding', () => {
  it('uses a key whose standard base64 has +, / and padding', () => {
    expect(STD).toMatch(/^\+\/\+/);
    expect(STD.endsWith('==')).toBe(true);
  });

  it.each([
    ['padded standard base64', STD],
    ['unpadded standard base64 (upstream RawStdEncoding)', STD.replace(/=+$/, '')],
    ['url-safe base64 without padding', KEY_BYTES.toString('base64url')],
    ['url-safe base64 with padding', KEY_BYTES.toString('base64url') + '=='],
    ['base64 with surrounding whitespace', `  ${STD}\n`],
  ])('decodes %s to the same bytes', (_name, text) => {
    expect(Buffer.from(loadConfig({ JWT_SIGNING_KEY: text }).jwtKey!).equals(KEY_BYTES)).toBe(true);
    expect(Buffer.from(decodeJwtKey(text)).equals(KEY_BYTES)).toBe(true);
  });

  it.each([
    ['characters outside base64', 'not base64 at all!'],
    ['an 8-byte key', Buffer.alloc(8, 1).toString('base64')],
  ])('refuses %s, naming JWT_SIGNING_KEY', (_name, text) => {
    const error = errorOf(() => loadConfig({ JWT_SIGNING_KEY: text }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('JWT_SIGNING_KEY');
  });
});

describe('JWT_SIGNING_KEY length (at least the HS256 hash size)', () => {
  it.each([
    ["upstream's public default key text (20 bytes)", 'Platform+Auth+Server+Secret', 20],
    ['a 16-byte key', Buffer.alloc(16, 7).toString('base64'), 16],
    ['a 31-byte key', Buffer.alloc(31, 7).toString('base64'), 31],
  ])('refuses %s at start with a ConfigError naming the variable and the sizes', (_name, text, bytes) => {
    const error = errorOf(() => loadConfig({ AUTH_MODE: 'jwt', STAGE: 'prod', JWT_SIGNING_KEY: text }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`JWT_SIGNING_KEY decodes to ${bytes} bytes`);
    expect(error.message).toContain('HS256 32, HS384 48, HS512 64');
  });

  it.each([32, 48, 64, 100])('accepts a %i-byte key', (bytes) => {
    const key = Buffer.alloc(bytes, 9);
    expect(Buffer.from(loadConfig({ JWT_SIGNING_KEY: key.toString('base64') }).jwtKey!).equals(key)).toBe(true);
  });

  it('does not check the key when AUTH_MODE=off (no key is used)', () => {
    expect(loadConfig({ AUTH_MODE: 'off', JWT_SIGNING_KEY: 'Platform+Auth+Server+Secret' }).jwtKey).toBeUndefined();
  });
});

describe('integers', () => {
  it.each([
    ['API_CONCURRENT_NUM', 'abc'],
    ['API_CONCURRENT_NUM', '0'],
    ['API_CONCURRENT_NUM', '2.5'],
    ['SALT_API_TIMEOUT_MS', '-1'],
    ['SALT_API_LOGIN_TIMEOUT_MS', '10s'],
    ['SALT_JOB_TIMEOUT_S', 'NaN'],
  ])('refuses %s=%j, naming the variable and the value', (name, value) => {
    const error = errorOf(() => loadConfig(jwtEnv({ [name]: value })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(name);
    expect(error.message).toContain(value);
  });

  it('reads valid integers and keeps the defaults for blank ones', () => {
    const config = loadConfig(jwtEnv({ API_CONCURRENT_NUM: '12', SALT_API_TIMEOUT_MS: ' ', SALT_JOB_TIMEOUT_S: '60' }));
    expect(config.itemConcurrency).toBe(12);
    expect(config.salt.timeoutMs).toBe(30_000);
    expect(config.salt.jobTimeoutS).toBe(60);
  });
});

describe('salt-api TLS settings', () => {
  it('refuses SALT_API_INSECURE together with SALT_API_CA_FILE, naming both', () => {
    const ca = join(dir, 'ca-both.pem');
    writeFileSync(ca, 'PEM');
    const error = errorOf(() => loadConfig(jwtEnv({ SALT_API_INSECURE: 'true', SALT_API_CA_FILE: ca })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('SALT_API_INSECURE');
    expect(error.message).toContain('SALT_API_CA_FILE');
  });

  it('names the path of a CA file that cannot be read', () => {
    const missing = join(dir, 'no-such-ca.pem');
    const error = errorOf(() => loadConfig(jwtEnv({ SALT_API_CA_FILE: missing })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(missing);
    expect(error.message).toContain('SALT_API_CA_FILE');
  });

  it('reads the CA file into the config', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(loadConfig(jwtEnv({ SALT_API_CA_FILE: ca })).salt.ca).toBe('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });

  it('verifies TLS by default', () => {
    const config = loadConfig(jwtEnv());
    expect(config.salt.insecure).toBe(false);
    expect(config.salt.ca).toBeUndefined();
  });

  it.each([
    ['true', true],
    ['YES', true],
    ['1', true],
    ['on', true],
    ['false', false],
    ['no', false],
    ['0', false],
    ['', false],
  ])('reads SALT_API_INSECURE=%j as %s', (value, expected) => {
    expect(loadConfig(jwtEnv({ SALT_API_INSECURE: value })).salt.insecure).toBe(expected);
  });
});

describe('other settings', () => {
  it('strips trailing slashes from SALT_API_URL', () => {
    expect(loadConfig(jwtEnv({ SALT_API_URL: 'https://salt.example:8000//' })).salt.url).toBe('https://salt.example:8000');
  });

  it('refuses a SALT_API_URL that is not a URL, naming it', () => {
    expect(() => loadConfig(jwtEnv({ SALT_API_URL: 'salt master' }))).toThrow(/SALT_API_URL/);
  });

  it('refuses an unknown SALT_API_EAUTH, naming it', () => {
    expect(() => loadConfig(jwtEnv({ SALT_API_EAUTH: 'kerberos' }))).toThrow(/SALT_API_EAUTH/);
  });

  it('refuses an unknown LOG_LEVEL, naming it and the levels (it used to fall back to info silently)', () => {
    expect(() => loadConfig(jwtEnv({ LOG_LEVEL: 'verbose' }))).toThrow('LOG_LEVEL: "verbose" is not one of debug, info, warn, error');
  });

  it('reads LOG_LEVEL in any case', () => {
    expect(loadConfig(jwtEnv({ LOG_LEVEL: 'WARN' })).logLevel).toBe('warn');
  });

  it('reads ENCRYPT_SEED trimmed, and a blank one as unset', () => {
    expect(loadConfig(jwtEnv({ ENCRYPT_SEED: ' seed ' })).encryptSeed).toBe('seed');
    expect(loadConfig(jwtEnv({ ENCRYPT_SEED: ' ' })).encryptSeed).toBeUndefined();
  });

  it('has the documented defaults', () => {
    const config = loadConfig(jwtEnv());
    expect(config).toMatchObject({
      stage: 'local',
      authMode: 'jwt',
      itemConcurrency: 5,
      saltApiCallEnabled: false,
      salt: { url: 'https://127.0.0.1:8080', eauth: 'pam', username: 'saltapi', password: '', timeoutMs: 30_000, jobTimeoutS: 300 },
    });
  });
});

describe('release events', () => {
  const SECRET = 'a'.repeat(32);

  it('publishes nowhere by default', () => {
    expect(loadConfig(jwtEnv()).releases.events).toEqual({ bus: undefined, endpoint: undefined, webhook: undefined });
  });

  it('reads the bus, the endpoint and the webhook with its bounds', () => {
    const events = loadConfig(
      jwtEnv({
        RELEASE_EVENT_BUS: 'releases',
        EVENTS_ENDPOINT: 'http://127.0.0.1:4010',
        RELEASE_WEBHOOK_URL: 'https://hooks.example/releases',
        RELEASE_WEBHOOK_SECRET: SECRET,
        RELEASE_WEBHOOK_ATTEMPTS: '2',
      }),
    ).releases.events;
    expect(events).toEqual({
      bus: 'releases',
      endpoint: 'http://127.0.0.1:4010',
      webhook: { url: 'https://hooks.example/releases', secret: SECRET, timeoutMs: 5000, attempts: 2 },
    });
  });

  it.each([
    [{ RELEASE_WEBHOOK_URL: 'https://hooks.example/' }, 'RELEASE_WEBHOOK_SECRET: required when RELEASE_WEBHOOK_URL is set'],
    [{ RELEASE_WEBHOOK_SECRET: SECRET }, 'RELEASE_WEBHOOK_URL: required when RELEASE_WEBHOOK_SECRET is set'],
    [{ RELEASE_WEBHOOK_URL: 'https://hooks.example/', RELEASE_WEBHOOK_SECRET: 'short' }, 'RELEASE_WEBHOOK_SECRET: must be at least 32 bytes'],
    [
      { RELEASE_WEBHOOK_URL: 'ftp://hooks.example/x?token=t0ken', RELEASE_WEBHOOK_SECRET: SECRET },
      'RELEASE_WEBHOOK_URL: "ftp://hooks.example/x" is not an http(s) URL',
    ],
    [{ EVENTS_ENDPOINT: 'not a url' }, 'EVENTS_ENDPOINT'],
  ])('refuses %j, naming the variable (and never the secret or the query)', (env, message) => {
    const error = errorOf(() => loadConfig(jwtEnv(env)));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('t0ken');
    expect(error.message).not.toContain(SECRET);
  });
});
