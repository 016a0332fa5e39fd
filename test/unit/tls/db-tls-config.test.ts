import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { mysqlSsl } from '../../../lib/mysql/mysql-session.js';
import { redisTlsSocket } from '../../../lib/redis/redis-session.js';

const base = { AUTH_MODE: 'off' };
const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

let dir: string;
let caFile: string;
let caPem: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'db-tls-unit-'));
  caFile = join(dir, 'ca.pem');
  // A real CA certificate (the config parses every certificate of the file), made by the local openssl.
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=db-tls unit CA', '-keyout', join(dir, 'ca-key.pem'), '-out', caFile],
    { stdio: 'ignore' },
  );
  caPem = readFileSync(caFile, 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['MYSQL', 'REDIS'] as const)('%s_TLS', (db) => {
  const tlsOf = (env: Record<string, string>) => {
    const config = loadConfig({ ...base, ...env });
    return db === 'MYSQL' ? config.db.mysqlTls : config.db.redisTls;
  };

  it.each([[{}], [{ [`${db}_TLS`]: '' }], [{ [`${db}_TLS`]: 'off' }], [{ [`${db}_TLS`]: ' OFF ' }]])(
    'is off (plain connections, as upstream) with %j',
    (env) => {
      expect(tlsOf(env)).toBeUndefined();
    },
  );

  it("required without a CA file verifies against Node's public CAs", () => {
    expect(tlsOf({ [`${db}_TLS`]: 'required' })).toEqual({ ca: undefined, caFile: undefined });
  });

  it('required with a CA file holds the PEM text of the file', () => {
    expect(tlsOf({ [`${db}_TLS`]: 'Required', [`${db}_TLS_CA_FILE`]: caFile })).toEqual({ ca: caPem, caFile });
  });

  it.each(['on', 'preferred', 'true', 'insecure', 'verify-ca'])('refuses %s, naming the variable', (mode) => {
    const error = errorOf(() => tlsOf({ [`${db}_TLS`]: mode }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${db}_TLS`);
  });

  it('refuses a CA file while TLS is off (the operator believes connections are verified)', () => {
    const error = errorOf(() => tlsOf({ [`${db}_TLS_CA_FILE`]: caFile }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${db}_TLS_CA_FILE is set but ${db}_TLS is off: set ${db}_TLS=required, or unset ${db}_TLS_CA_FILE`);
  });

  it('names the variable and the path of a CA file that does not exist', () => {
    const missing = join(dir, `${db}-missing.pem`);
    const error = errorOf(() => tlsOf({ [`${db}_TLS`]: 'required', [`${db}_TLS_CA_FILE`]: missing }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${db}_TLS_CA_FILE: cannot be read: ${missing} (ENOENT)`);
  });

  it('names the variable of a CA file that cannot be read (a directory)', () => {
    const error = errorOf(() => tlsOf({ [`${db}_TLS`]: 'required', [`${db}_TLS_CA_FILE`]: dir }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${db}_TLS_CA_FILE: cannot be read: ${dir} (EISDIR)`);
  });

  it.each([
    ['empty', '', 'holds no PEM certificate'],
    ['a private key', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n', 'holds no PEM certificate'],
    ['a corrupt certificate', '-----BEGIN CERTIFICATE-----\nMIIBbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n', 'certificate 1 of'],
  ])('refuses a CA file that is %s, naming the variable', (name, content, text) => {
    const file = join(dir, `${db}-${name.replace(/ /g, '-')}.pem`);
    writeFileSync(file, content);
    const error = errorOf(() => tlsOf({ [`${db}_TLS`]: 'required', [`${db}_TLS_CA_FILE`]: file }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${db}_TLS_CA_FILE`);
    expect(error.message).toContain(text);
  });

  it('accepts a bundle and refuses it when its second certificate is corrupt', () => {
    const bundle = join(dir, `${db}-bundle.pem`);
    writeFileSync(bundle, caPem + caPem);
    expect(tlsOf({ [`${db}_TLS`]: 'required', [`${db}_TLS_CA_FILE`]: bundle })?.ca).toBe(caPem + caPem);
    writeFileSync(bundle, caPem + '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(errorOf(() => tlsOf({ [`${db}_TLS`]: 'required', [`${db}_TLS_CA_FILE`]: bundle })).message).toContain('certificate 2 of');
  });
});

describe("the drivers' TLS options never skip verification", () => {
  it.each([
    ['a CA file', { ca: 'PEM', caFile: '/ca.pem' }, { ca: 'PEM' }],
    ['public CAs', { ca: undefined, caFile: undefined }, {}],
  ])('mysql2 with %s: certificate and identity verified, TLS 1.2 or later', (_name, tls, ca) => {
    expect(mysqlSsl(tls)).toEqual({ ...ca, rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' });
  });

  it.each([
    ['127.0.0.1', {}],
    ['::1', {}],
    ['db.example.com', { servername: 'db.example.com' }],
  ])('node-redis to %s: certificate verified, SNI only for a name', (host, sni) => {
    expect(redisTlsSocket({ ca: 'PEM', caFile: '/ca.pem' }, host)).toEqual({ tls: true, ca: 'PEM', rejectUnauthorized: true, minVersion: 'TLSv1.2', ...sni });
  });
});
