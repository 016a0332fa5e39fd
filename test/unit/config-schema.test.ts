import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import type { DbTls } from '../../lib/tls/db-tls.js';

const KEY = Buffer.alloc(64, 5).toString('base64');
const BOOLEAN = 'is not a boolean (true/false/yes/no/1/0/on/off)';

const problemsOf = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('every problem at once', () => {
  it('reports a misspelt boolean and two missing required variables in one ConfigError', () => {
    const message = problemsOf({ STAGE: 'prod', SALT_API_INSECURE: 'ture', S3_ACCESS_KEY: 'AKIDEXAMPLE' });
    expect(message).toMatch(/^Configuration has 3 problems: /);
    const problems = message.replace(/^Configuration has 3 problems: /, '').split('; ');
    expect(problems).toEqual([
      `SALT_API_INSECURE: "ture" ${BOOLEAN}`,
      'JWT_SIGNING_KEY: required when AUTH_MODE=jwt (there is no default key)',
      'S3_SECRET_KEY: required when S3_ACCESS_KEY is set (S3_ACCESS_KEY and S3_SECRET_KEY are set together, or neither for the AWS role)',
    ]);
  });

  it('reports field and rule problems together, each line starting with its variable', () => {
    const message = problemsOf({
      AUTH_MODE: 'off',
      STAGE: 'dev',
      API_CONCURRENT_NUM: '0',
      LOG_LEVEL: 'loud',
      SALT_API_URL: 'salt master',
      MYSQL_TLS_CA_FILE: '/no/such/dir/ca.pem',
      REDIS_TLS: 'preferred',
      SALTSTACK_FILE_VARIBLE_PREFIX: '@',
      RELEASE_MANIFEST_PREFIX: '/',
    });
    const problems = message.replace(/^Configuration has (\d+) problems: /, '').split('; ');
    expect(message).toContain(`Configuration has ${problems.length} problems: `);
    expect(problems.map((p) => p.match(/^[A-Z][A-Z0-9_]*/)?.[0])).toEqual([
      'LOG_LEVEL',
      'API_CONCURRENT_NUM',
      'SALT_API_URL',
      'MYSQL_TLS_CA_FILE',
      'REDIS_TLS',
      'RELEASE_MANIFEST_PREFIX',
      'AUTH_MODE',
      'SALTSTACK_DEFAULT_SPECIAL_REPLACE',
    ]);
    expect(problems).toContain('SALT_API_URL: "salt master" is not a URL');
    expect(problems).toContain('MYSQL_TLS_CA_FILE: cannot be read: /no/such/dir/ca.pem (ENOENT)');
    expect(problems).toContain('REDIS_TLS: "preferred" is not one of off, required');
    expect(problems).toContain('AUTH_MODE=off is only allowed when STAGE=local (STAGE is "dev")');
  });

  it('does not pile a rule onto a variable that already failed (an unknown AUTH_MODE, not also a missing key)', () => {
    expect(problemsOf({ AUTH_MODE: 'none' })).toBe('AUTH_MODE: "none" is not one of jwt, off');
  });

  it('gives a single problem as the whole message', () => {
    expect(problemsOf({ AUTH_MODE: 'off', SALT_API_CALL_ENABLED: 'enabled' })).toBe(`SALT_API_CALL_ENABLED: "enabled" ${BOOLEAN}`);
  });
});

const FLAGS: [string, (c: Config) => boolean, boolean][] = [
  ['SALT_API_INSECURE', (c) => c.salt.insecure, false],
  ['SALT_API_CALL_ENABLED', (c) => c.saltApiCallEnabled, false],
  ['S3_FORCE_PATH_STYLE', (c) => c.s3.forcePathStyle, true],
  ['SALTSTACK_VARIABLE_NULL_CHECK', (c) => c.variableNullCheck, false],
  ['VARIABLE_NULL_CHECK', (c) => c.variableNullCheck, false],
];
const SPELLINGS: [string, boolean][] = [
  ...['true', 'TRUE', 'True', 'yes', 'YES', 'y', 'Y', '1', 'on', 'ON', ' on '].map((v) => [v, true] as [string, boolean]),
  ...['false', 'FALSE', 'no', 'No', 'n', 'N', '0', 'off', 'OFF', ' off '].map((v) => [v, false] as [string, boolean]),
];

describe.each(FLAGS)('flag %s', (name, read, fallback) => {
  const base = { AUTH_MODE: 'off' };

  it.each(SPELLINGS)('reads %j as %s', (value, expected) => {
    expect(read(loadConfig({ ...base, [name]: value }))).toBe(expected);
  });

  it.each([undefined, '', '   '])(`reads %j as the default (${fallback})`, (value) => {
    expect(read(loadConfig({ ...base, [name]: value }))).toBe(fallback);
  });

  it.each(['ture', 'flase', 'yess', 'enabled', 'disabled', '2', '-1', 'oui', 't', 'f', 'tr ue'])(
    'refuses %j, naming the variable and the spellings',
    (value) => {
      expect(problemsOf({ ...base, [name]: value })).toBe(`${name}: "${value}" ${BOOLEAN}`);
    },
  );
});

describe('enums', () => {
  const base = { AUTH_MODE: 'off' };

  it.each([
    ['AUTH_MODE', 'none', 'jwt, off'],
    ['LOG_LEVEL', 'verbose', 'debug, info, warn, error'],
    ['SALT_API_EAUTH', 'kerberos', 'pam, file, sharedsecret, ldap, auto'],
    ['MYSQL_TLS', 'preferred', 'off, required'],
    ['REDIS_TLS', 'verify-ca', 'off, required'],
    ['SSH_HOST_KEY_POLICY', 'trust-all', 'record-on-first-use, known-only'],
    ['AGENT_INSTALL_METHOD', 'curl', 'repository, bootstrap, bundle, preinstalled'],
    ['RELEASE_RUNNER', 'lambda', 'aws, local'],
    ['RELEASE_REQUEST_SSE', 'AES256', 'aws:kms, off'],
  ])('refuses %s=%j, naming the variable and the allowed values', (name, value, allowed) => {
    expect(problemsOf({ ...base, [name]: value })).toBe(`${name}: "${value}" is not one of ${allowed}`);
  });

  it.each([
    ['LOG_LEVEL', 'DEBUG', (c: Config) => c.logLevel, 'debug'],
    ['SALT_API_EAUTH', ' File ', (c: Config) => c.salt.eauth, 'file'],
    ['SSH_HOST_KEY_POLICY', 'Known-Only', (c: Config) => c.ssh.hostKeyPolicy, 'known-only'],
    ['RELEASE_RUNNER', 'AWS', (c: Config) => c.releases.runner, 'aws'],
  ])('reads %s=%j in any case', (name, value, read, expected) => {
    expect(read(loadConfig({ ...base, [name]: value }))).toBe(expected);
  });
});

// STAGE names the deployment (blank is not "local": that would allow AUTH_MODE=off); an empty manifest
// prefix is refused (it would take manifests from the whole bucket). Every other variable: blank = default.
const BLANK_IS_NOT_DEFAULT = new Set(['STAGE', 'RELEASE_MANIFEST_PREFIX']);

describe('blank means the default', () => {
  it.each(CONFIG_VARIABLES.filter((v) => !BLANK_IS_NOT_DEFAULT.has(v)).map((v) => [v]))('%s', (name) => {
    const base = name === 'JWT_SIGNING_KEY' ? { AUTH_MODE: 'off' } : { JWT_SIGNING_KEY: KEY };
    const defaults = loadConfig(base);
    expect(loadConfig({ ...base, [name]: '' })).toEqual(defaults);
    expect(loadConfig({ ...base, [name]: '  ' })).toEqual(defaults);
  });

  it('lists the variables the code reads', () => {
    expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['AUTH_MODE', 'JWT_SIGNING_KEY', 'SALT_API_URL', 'SALT_API_INSECURE', 'HOST_USER_MIN_UID']));
    expect(CONFIG_VARIABLES).toHaveLength(new Set(CONFIG_VARIABLES).size);
  });
});

// Compile-time: fails the type check (and so this suite) if Config stops being derived with these fields.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typeIs = <T extends true>(): T | undefined => undefined;

describe('the Config type (derived from the schema)', () => {
  it('has the fields and types the code reads', () => {
    typeIs<Equal<Config['salt']['url'], string>>();
    typeIs<Equal<Config['salt']['insecure'], boolean>>();
    typeIs<Equal<Config['salt']['ca'], string | undefined>>();
    typeIs<Equal<Config['authMode'], 'jwt' | 'off'>>();
    typeIs<Equal<Config['logLevel'], 'debug' | 'info' | 'warn' | 'error'>>();
    typeIs<Equal<Config['jwtKey'], Uint8Array | undefined>>();
    typeIs<Equal<Config['hosts']['userMinUid'], number>>();
    typeIs<Equal<Config['hosts']['diskDeviceTypes'], string[]>>();
    typeIs<Equal<Config['db']['mysqlTls'], DbTls | undefined>>();
    typeIs<Equal<Config['agent']['publishPort'], number | undefined>>();
    typeIs<Equal<Config['releases']['runner'], 'aws' | 'local'>>();
    typeIs<Equal<Config['releases']['requestEncryption'], { sse: 'aws:kms'; kmsKeyId: string | undefined } | undefined>>();
    typeIs<Equal<Config['s3']['credentials'], { accessKeyId: string; secretAccessKey: string } | undefined>>();
    // @ts-expect-error: Config is not `any` (a field that does not exist is an error)
    typeIs<Equal<Config['salt']['no_such_field'], string>>();
    const url: Config['salt']['url'] = loadConfig({ AUTH_MODE: 'off' }).salt.url;
    expect(url).toBe('https://127.0.0.1:8080');
  });
});

describe('serverless.yml provider.environment', () => {
  // logLevel: the CloudFormation tags (!Ref, !Join) are unknown to the YAML parser and do not matter here.
  const doc = parse(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'), { logLevel: 'error' }) as {
    provider: { environment: Record<string, unknown> };
    custom: Record<string, unknown>;
  };
  const environment = Object.entries(doc.provider.environment).filter(([name]) => name !== 'NODE_OPTIONS');
  // The value an entry takes from the environment: `${env:X, 'd'}`, directly or through `${self:custom.K}`.
  const envDefault = (value: unknown): { from: string; fallback: string } | undefined => {
    const text = String(value);
    const custom = /^\$\{self:custom\.(\w+)\}$/.exec(text);
    if (custom) return envDefault(doc.custom[custom[1]!]);
    const env = /^\$\{env:([A-Z0-9_]+), '([^']*)'\}$/.exec(text);
    return env ? { from: env[1]!, fallback: env[2]! } : undefined;
  };

  it('holds only variables lib/config.ts reads', () => {
    expect(environment.map(([name]) => name).filter((name) => !CONFIG_VARIABLES.includes(name as never))).toEqual([]);
  });

  it("states no default of its own for a variable whose default is in the schema (`${env:X, ''}`)", () => {
    const ownDefaults = environment
      .map(([name, value]) => [name, String(value)] as const)
      .filter(([, value]) => /^\$\{env:[A-Z0-9_]+, '(?!'|\$\{)/.test(value));
    expect(ownDefaults).toEqual([]);
  });

  const fromEnv = environment.flatMap(([name, value]) => {
    const found = envDefault(value);
    // `${self:provider.region}`-style defaults are per deployment, not the schema's business.
    return found && found.from === name && !found.fallback.startsWith('${') ? [[name, found.fallback] as const] : [];
  });

  it('reads most variables from the environment (the check below has something to check)', () => {
    expect(fromEnv.length).toBeGreaterThan(20);
  });

  it.each(fromEnv)('%s: its fallback %j gives the schema default', (name, fallback) => {
    const base = { AUTH_MODE: 'off', STAGE: 'local' };
    expect(loadConfig({ ...base, [name]: fallback })).toEqual(loadConfig(base));
  });
});
