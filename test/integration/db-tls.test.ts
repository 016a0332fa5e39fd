import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connection } from 'mysql2/promise';
import { decodeCipherA, encodeCipherA } from '../../lib/crypto/cipher-a.js';
import { operationsFor } from '../../scripts/lib/load-operations.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { adminConnection, asRedisUser, mysqlEnv, redisEnv, schemaNames, unique } from '../support/databases.js';
import { capturedLogs, stackEnv, stackRuntime } from '../support/stack.js';
import { fakeMysqlServer, fakeRedisTlsServer, forwarder, makeCa, makeServerCert, type FakeServer, type TestCa } from '../support/tls-fixtures.js';

const SEED = 'abc12345';
const GUID = 'tls-guid';
type Out = Record<string, unknown>;

/** Runs one operation with a runtime built from the stack env plus `overrides` (MYSQL_TLS=..., ...). */
async function runWith(overrides: Record<string, string>, plugin: string, action: string, item: unknown): Promise<Out> {
  const rt = stackRuntime({ DB_CONNECT_TIMEOUT_MS: '3000', ...overrides });
  const op = (await operationsFor(rt)).find((o) => o.plugin === plugin && o.action === action)!;
  const [out] = await runOperation(op, [item], { logger: rt.logger, signal: new AbortController().signal, concurrency: 1 });
  return out as Out;
}

const bytes = (fake: FakeServer) => Buffer.concat(fake.secured);

let dir: string;
let wrongCa: TestCa;
let fakeCa: TestCa;
const stackCa = () => stackEnv()['STACK_CA_FILE']!;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'db-tls-int-'));
  // A CA that never signed the stack's server certificate, and the CA of the fake servers.
  wrongCa = makeCa(dir, 'wrong');
  fakeCa = makeCa(dir, 'fake');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MYSQL_TLS=required against the stack MariaDB', () => {
  let admin: Connection;
  const prefix = unique('tls');
  const schemas: string[] = [];
  const accounts: string[] = [];
  const secrets: string[] = [];
  const { host, port, user, password: adminPassword } = mysqlEnv();
  const tlsOn = () => ({ MYSQL_TLS: 'required', MYSQL_TLS_CA_FILE: stackCa() });
  const base = (over: { host?: string; port?: number } = {}) => ({
    guid: GUID,
    seed: SEED,
    host: over.host ?? host,
    port: String(over.port ?? port),
    userName: user,
    password: encodeCipherA(GUID, SEED, adminPassword),
  });
  const cipherOf = async (env: Record<string, string>, over: { host?: string; port?: number } = {}) => {
    const out = await runWith(env, 'mysql-script', 'run-custom-sql', { ...base(over), sql: "SHOW SESSION STATUS LIKE 'Ssl_cipher'" });
    expect(out).toMatchObject({ errorCode: '0' });
    return (out['rows'] as Record<string, string | null>[])[0]!['Value'];
  };
  const addDatabase = (env: Record<string, string>, over: { host?: string; port?: number } = {}) => {
    const schema = `${prefix}_${schemas.length}_db`;
    const owner = `${prefix}_${accounts.length}_own`;
    schemas.push(schema);
    accounts.push(owner);
    return runWith(env, 'mysql-database', 'add', { ...base(over), databaseName: schema, databaseOwnerName: owner, databaseOwnerGuid: 'og' }).then((out) => ({
      out,
      schema,
      owner,
    }));
  };

  beforeAll(async () => {
    admin = await adminConnection();
  });
  afterAll(async () => {
    for (const schema of schemas) await admin.query({ sql: 'DROP DATABASE IF EXISTS ??', values: [schema] });
    for (const account of accounts) await admin.query({ sql: 'DROP USER IF EXISTS ?@?', values: [account, '%'] });
    await admin.end();
    const logs = capturedLogs.join('\n');
    for (const secret of [adminPassword, ...secrets]) expect(logs).not.toContain(secret);
  });

  it('creates a database over TLS, and the server reports the session of that connector encrypted', async () => {
    const { out, schema, owner } = await addDatabase(tlsOn());
    expect(out).toMatchObject({ errorCode: '0', errorMessage: '' });
    secrets.push(decodeCipherA('og', SEED, String(out['databaseOwnerPassword'])));
    expect(await schemaNames(admin, schema)).toEqual([schema]);
    const [accountRows] = await admin.query({ sql: 'SELECT User FROM mysql.user WHERE User = ?', values: [owner], rowsAsArray: true });
    expect(accountRows).toEqual([[owner]]);
    expect(await cipherOf(tlsOn())).toMatch(/^TLS_|^ECDHE|^AES|^DHE/);
  });

  it('with MYSQL_TLS off the same query reports a plain session (what the check above tells apart)', async () => {
    expect(await cipherOf({})).toBe('');
  });

  it('refuses a server certificate the CA file does not vouch for, naming MYSQL_TLS_CA_FILE, and creates nothing', async () => {
    const { out, schema } = await addDatabase({ MYSQL_TLS: 'required', MYSQL_TLS_CA_FILE: wrongCa.caFile });
    expect(out['errorCode']).toBe('1');
    expect(out['errorMessage']).toContain('TLS handshake failed: the server certificate is not trusted (check MYSQL_TLS_CA_FILE)');
    expect(out['errorMessage']).not.toContain(adminPassword);
    expect(await schemaNames(admin, schema)).toEqual([]);
  });

  it('refuses an address the certificate does not name (127.0.0.2 forwarded to the server), which works in plain', async () => {
    const relay = await forwarder('127.0.0.2', { host, port });
    try {
      const { out, schema } = await addDatabase(tlsOn(), relay);
      expect(out['errorCode']).toBe('1');
      expect(out['errorMessage']).toContain('the server certificate is not valid for this host name or address');
      expect(out['errorMessage']).toContain('IP: 127.0.0.2 is not in the cert');
      expect(await schemaNames(admin, schema)).toEqual([]);
      // The relay itself works: a plain session through it reaches the same server.
      expect(await cipherOf({}, relay)).toBe('');
    } finally {
      await relay.close();
    }
  });

  describe('what the client sends before it trusts the server (a fake MySQL server with its own certificate)', () => {
    const login = (env: Record<string, string>, fake: FakeServer, host: string) =>
      runWith(env, 'mysql-script', 'run-custom-sql', { ...base({ host, port: fake.port }), sql: 'SELECT 1' });

    it('sends its login (user name, password proof) only inside a TLS session it verified', async () => {
      const fake = await fakeMysqlServer(makeServerCert(dir, fakeCa, 'mysql-both', 'IP:127.0.0.1,DNS:localhost'));
      try {
        const trusted = await login({ MYSQL_TLS: 'required', MYSQL_TLS_CA_FILE: fakeCa.caFile }, fake, '127.0.0.1');
        expect(trusted['errorMessage']).toContain('fake server: access denied');
        expect(bytes(fake).includes(Buffer.from(user))).toBe(true);

        fake.secured.length = 0;
        fake.plain.length = 0;
        const untrusted = await login(tlsOn(), fake, '127.0.0.1');
        expect(untrusted['errorMessage']).toContain('the server certificate is not trusted (check MYSQL_TLS_CA_FILE)');
        expect(fake.secured).toEqual([]);
        // In clear only the 32-byte SSLRequest, which holds capabilities and no user name.
        expect(fake.plain.map((b) => b.length)).toEqual([36]);
        expect(Buffer.concat(fake.plain).includes(Buffer.from(user))).toBe(false);
      } finally {
        await fake.close();
      }
    });

    it('checks the IP address against the IP SANs: a certificate naming only localhost fails for 127.0.0.1', async () => {
      const fake = await fakeMysqlServer(makeServerCert(dir, fakeCa, 'mysql-name', 'DNS:localhost'));
      const env = { MYSQL_TLS: 'required', MYSQL_TLS_CA_FILE: fakeCa.caFile };
      try {
        const byIp = await login(env, fake, '127.0.0.1');
        expect(byIp['errorMessage']).toContain('the server certificate is not valid for this host name or address');
        expect(fake.secured).toEqual([]);
        const byName = await login(env, fake, 'localhost');
        expect(byName['errorMessage']).toContain('fake server: access denied');
        expect(bytes(fake).includes(Buffer.from(user))).toBe(true);
      } finally {
        await fake.close();
      }
    });
  });
});

describe('REDIS_TLS=required against the stack Redis TLS port', () => {
  const prefix = unique('rtls');
  const users: string[] = [];
  const secrets: string[] = [];
  const { host, port: plainPort, password: adminPassword } = redisEnv();
  const tlsPort = Number(stackEnv()['REDIS_TLS_PORT']);
  const tlsOn = () => ({ REDIS_TLS: 'required', REDIS_TLS_CA_FILE: stackCa() });
  const add = (env: Record<string, string>, over: { host?: string; port?: number } = {}, password = adminPassword) => {
    const userName = `${prefix}_${users.length}`;
    users.push(userName);
    const item = {
      guid: 'rg',
      seed: SEED,
      host: over.host ?? host,
      port: over.port ?? tlsPort,
      adminPassword: encodeCipherA('rg', SEED, password),
      userGuid: 'ug',
      userName,
      userWriteKeyPattern: `${prefix}:*`,
    };
    return runWith(env, 'redis-user', 'add', item).then((out) => ({ out, userName }));
  };
  const userExists = (name: string) => asRedisUser(undefined, adminPassword, async (send) => (await send(['ACL', 'GETUSER', name])) !== null);

  afterAll(async () => {
    await asRedisUser(undefined, adminPassword, async (send) => {
      for (const user of users) await send(['ACL', 'DELUSER', user]);
    });
    const logs = capturedLogs.join('\n');
    for (const secret of [adminPassword, ...secrets]) expect(logs).not.toContain(secret);
  });

  it('adds a user through the TLS port; the user exists and logs in with the returned password', async () => {
    const { out, userName } = await add(tlsOn());
    expect(out).toMatchObject({ errorCode: '0', detail: `user ${userName} created` });
    const password = decodeCipherA('ug', SEED, String(out['userPassword']));
    secrets.push(password);
    expect(await userExists(userName)).toBe(true);
    expect(await asRedisUser(userName, password, async (send) => send(['SET', `${prefix}:k`, 'v']))).toBe('OK');
  });

  it('fails clearly when a plain client is sent to the TLS port, and creates nothing', async () => {
    const { out, userName } = await add({});
    expect(out['errorCode']).toBe('1');
    expect(out['errorMessage']).toContain(
      `connection dropped by the server before any reply (REDIS_TLS is off: if ${tlsPort} is the server's TLS port, set REDIS_TLS=required)`,
    );
    expect(await userExists(userName)).toBe(false);
  });

  it('fails clearly when TLS is sent to the plain port', async () => {
    const { out, userName } = await add(tlsOn(), { port: plainPort });
    expect(out['errorCode']).toBe('1');
    expect(out['errorMessage']).toContain(`TLS connect timed out (REDIS_TLS=required: is ${plainPort} the server's TLS port?)`);
    expect(await userExists(userName)).toBe(false);
  });

  it('refuses a server certificate the CA file does not vouch for, naming REDIS_TLS_CA_FILE', async () => {
    const { out, userName } = await add({ REDIS_TLS: 'required', REDIS_TLS_CA_FILE: wrongCa.caFile });
    expect(out['errorCode']).toBe('1');
    expect(out['errorMessage']).toContain('TLS handshake failed: the server certificate is not trusted (check REDIS_TLS_CA_FILE)');
    expect(out['errorMessage']).not.toContain(adminPassword);
    expect(await userExists(userName)).toBe(false);
  });

  it('refuses an address the certificate does not name (127.0.0.2 forwarded to the TLS port)', async () => {
    const relay = await forwarder('127.0.0.2', { host, port: tlsPort });
    const plainRelay = await forwarder('127.0.0.2', { host, port: plainPort });
    try {
      const { out, userName } = await add(tlsOn(), relay);
      expect(out['errorCode']).toBe('1');
      expect(out['errorMessage']).toContain('the server certificate is not valid for this host name or address');
      expect(out['errorMessage']).toContain('IP: 127.0.0.2 is not in the cert');
      expect(await userExists(userName)).toBe(false);
      // The relay works: the same kind of forwarding to the plain port lets a plain call through.
      const plain = await add({}, plainRelay);
      expect(plain.out).toMatchObject({ errorCode: '0' });
      secrets.push(decodeCipherA('ug', SEED, String(plain.out['userPassword'])));
    } finally {
      await relay.close();
      await plainRelay.close();
    }
  });

  describe('what the client sends before it trusts the server (a fake Redis TLS port)', () => {
    // A password of this test only: the fake must see it when trusted, and never otherwise.
    const canary = `canary-${prefix}`;

    it('sends AUTH (the password) only inside a TLS session it verified', async () => {
      const fake = await fakeRedisTlsServer(makeServerCert(dir, fakeCa, 'redis-both', 'IP:127.0.0.1,DNS:localhost'));
      try {
        const trusted = await add({ REDIS_TLS: 'required', REDIS_TLS_CA_FILE: fakeCa.caFile }, { port: fake.port }, canary);
        expect(trusted.out['errorMessage']).toContain('WRONGPASS fake server');
        expect(bytes(fake).includes(Buffer.from(canary))).toBe(true);

        fake.secured.length = 0;
        const untrusted = await add(tlsOn(), { port: fake.port }, canary);
        expect(untrusted.out['errorMessage']).toContain('the server certificate is not trusted (check REDIS_TLS_CA_FILE)');
        expect(fake.connections).toBe(2);
        expect(fake.secured).toEqual([]);
      } finally {
        await fake.close();
      }
    });

    it('checks the IP address against the IP SANs: a certificate naming only localhost fails for 127.0.0.1', async () => {
      const fake = await fakeRedisTlsServer(makeServerCert(dir, fakeCa, 'redis-name', 'DNS:localhost'));
      const env = { REDIS_TLS: 'required', REDIS_TLS_CA_FILE: fakeCa.caFile };
      try {
        const byIp = await add(env, { port: fake.port }, canary);
        expect(byIp.out['errorMessage']).toContain('the server certificate is not valid for this host name or address');
        expect(fake.secured).toEqual([]);
        const byName = await add(env, { host: 'localhost', port: fake.port }, canary);
        expect(byName.out['errorMessage']).toContain('WRONGPASS fake server');
        expect(bytes(fake).includes(Buffer.from(canary))).toBe(true);
      } finally {
        await fake.close();
      }
    });
  });
});
