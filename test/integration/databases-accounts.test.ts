import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connection } from 'mysql2/promise';
import { decodeCipherA, encodeCipherA } from '../../lib/crypto/cipher-a.js';
import { operationsFor } from '../../scripts/lib/load-operations.js';
import type { Runtime } from '../../lib/runtime.js';
import type { Operation } from '../../lib/wecube/operation.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { accountExists, adminConnection, grantsOf, login, mysqlEnv, schemaNames, unique } from '../support/databases.js';
import { capturedLogs, stackRuntime } from '../support/stack.js';

const SEED = 'abc12345';
const GUID = 'acct-guid';

describe('mysql-database and mysql-user against the stack MariaDB', () => {
  let rt: Runtime;
  let ops: Operation[];
  let admin: Connection;
  const prefix = unique('acct');
  const schemas: string[] = [];
  const accounts: string[] = [];
  const secrets: string[] = [];
  const { host, port, user, password: adminPassword } = mysqlEnv();
  const base = { guid: GUID, seed: SEED, host, port: String(port), userName: user, password: encodeCipherA(GUID, SEED, adminPassword) };
  const run = (plugin: string, action: string, items: unknown[]) =>
    runOperation(ops.find((o) => o.plugin === plugin && o.action === action)!, items, {
      logger: rt.logger,
      signal: new AbortController().signal,
      concurrency: 4,
    });
  const reveal = (guid: string, sealed: unknown) => {
    expect(String(sealed)).toMatch(/^\{cipher_a\}[0-9a-f]+$/);
    const plain = decodeCipherA(guid, SEED, String(sealed));
    secrets.push(plain);
    return plain;
  };
  const named = (schema: string, owner: string) => {
    schemas.push(schema);
    accounts.push(owner);
    return { schema, owner };
  };
  const canLogIn = async (account: string, password: string, database?: string) => {
    const result = await login(account, password, database);
    if (typeof result === 'string') return result;
    await result.end();
    return 'ok';
  };

  beforeAll(async () => {
    rt = stackRuntime();
    ops = await operationsFor(rt);
    admin = await adminConnection();
  });

  afterAll(async () => {
    for (const schema of schemas) await admin.query({ sql: 'DROP DATABASE IF EXISTS ??', values: [schema] });
    for (const account of accounts) await admin.query({ sql: 'DROP USER IF EXISTS ?@?', values: [account, '%'] });
    await admin.end();
    const logs = capturedLogs.join('\n');
    for (const secret of [adminPassword, ...secrets]) expect(logs).not.toContain(secret);
  });

  it('adds a database whose new owner logs in with the returned password and holds exactly ALL on it', async () => {
    const { schema, owner } = named(`${prefix}_app_db`, `${prefix}_own`);
    const [out] = await run('mysql-database', 'add', [{ ...base, databaseName: schema, databaseOwnerName: owner, databaseOwnerGuid: 'owner-guid' }]);
    expect(out).toMatchObject({ errorCode: '0', databaseOwnerGuid: 'owner-guid' });
    const password = reveal('owner-guid', out!['databaseOwnerPassword']);
    expect(password).toMatch(/^[A-Za-z0-9_]{16}$/);

    expect(await schemaNames(admin, schema)).toEqual([schema]);
    expect((await grantsOf(admin, owner)).slice(1)).toEqual([`GRANT ALL PRIVILEGES ON \`${schema.replace(/_/g, '\\_')}\`.* TO \`${owner}\`@\`%\``]);
    expect((await grantsOf(admin, owner))[0]).toMatch(new RegExp(`^GRANT USAGE ON \\*\\.\\* TO \`${owner}\`@\`%\` IDENTIFIED BY PASSWORD`));

    const session = await login(owner, password, schema);
    expect(typeof session).not.toBe('string');
    const conn = session as Connection;
    try {
      await conn.query('CREATE TABLE t (a INT)');
      await conn.query('INSERT INTO t VALUES (1)');
      await expect(conn.query('SELECT * FROM mysql.user')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    } finally {
      await conn.end();
    }
    // The underscore is escaped in the grant: a look-alike schema is not covered.
    const lookAlike = `${prefix}_appXdb`;
    schemas.push(lookAlike);
    await admin.query({ sql: 'CREATE DATABASE ??', values: [lookAlike] });
    expect(await canLogIn(owner, password, lookAlike)).toBe('ER_DBACCESS_DENIED_ERROR');
  });

  it('refuses to add an existing database and leaves it alone', async () => {
    const { schema, owner } = named(`${prefix}_twice`, `${prefix}_tw`);
    const item = {
      ...base,
      databaseName: schema,
      databaseOwnerName: owner,
      databaseOwnerGuid: 'g2',
      databaseOwnerPassword: encodeCipherA('g2', SEED, 'Tw1ce_pass'),
    };
    secrets.push('Tw1ce_pass');
    expect((await run('mysql-database', 'add', [item]))[0]!['errorCode']).toBe('0');
    await admin.query({ sql: 'CREATE TABLE ??.keep (a INT)', values: [schema] });
    const [again] = await run('mysql-database', 'add', [item]);
    expect(again).toMatchObject({ errorCode: '1', errorMessage: `Failed to add mysql database and user: database ${schema} already exists` });
    const [tables] = await admin.query({ sql: 'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', values: [schema], rowsAsArray: true });
    expect(tables).toEqual([['keep']]);
    expect(await canLogIn(owner, 'Tw1ce_pass', schema)).toBe('ok');
  });

  it('deletes a database: grants revoked, schema gone, owner kept; a second delete says it is missing', async () => {
    const { schema, owner } = named(`${prefix}_del`, `${prefix}_del_own`);
    const [added] = await run('mysql-database', 'add', [{ ...base, databaseName: schema, databaseOwnerName: owner, databaseOwnerGuid: 'g3' }]);
    const password = reveal('g3', added!['databaseOwnerPassword']);
    const [out] = await run('mysql-database', 'delete', [{ ...base, databaseName: schema, databaseOwnerGuid: 'g3' }]);
    expect(out).toMatchObject({ errorCode: '0', databaseOwnerGuid: 'g3', detail: `database ${schema} dropped; privileges revoked from '${owner}'@'%'` });
    expect(await schemaNames(admin, schema)).toEqual([]);
    expect((await grantsOf(admin, owner)).length).toBe(1);
    expect(await canLogIn(owner, password)).toBe('ok');
    const [again] = await run('mysql-database', 'delete', [{ ...base, databaseName: schema, databaseOwnerGuid: 'g3' }]);
    expect(again).toMatchObject({ errorCode: '0', detail: `database ${schema} does not exist, nothing to drop` });
  });

  it('adds, re-passwords and deletes an account', async () => {
    const { schema } = named(`${prefix}_users`, `${prefix}_u1`);
    const account = `${prefix}_u1`;
    await admin.query({ sql: 'CREATE DATABASE ??', values: [schema] });
    const userItem = { ...base, databaseUserName: account, databaseUserGuid: 'ug1' };

    const [added] = await run('mysql-user', 'add', [{ ...userItem, databaseName: schema }]);
    expect(added).toMatchObject({ errorCode: '0', databaseUserGuid: 'ug1' });
    const first = reveal('ug1', added!['databaseUserPassword']);
    expect(await canLogIn(account, first, schema)).toBe('ok');
    expect((await grantsOf(admin, account)).slice(1)).toEqual([`GRANT ALL PRIVILEGES ON \`${schema.replace(/_/g, '\\_')}\`.* TO \`${account}\`@\`%\``]);

    const [dup] = await run('mysql-user', 'add', [userItem]);
    expect(dup).toMatchObject({ errorCode: '1', errorMessage: `Failed to Add mysql user:${account}, user already exist` });

    const next = 'N3xt;pa$$ "word\'';
    secrets.push(next);
    const [changed] = await run('mysql-user', 'change-password', [{ ...userItem, databaseUserPassword: encodeCipherA('ug1', SEED, next) }]);
    expect(changed).toMatchObject({ errorCode: '0', databaseUserGuid: 'ug1' });
    expect(reveal('ug1', changed!['databaseUserPassword'])).toBe(next);
    expect(await canLogIn(account, first)).toBe('ER_ACCESS_DENIED_ERROR');
    expect(await canLogIn(account, next, schema)).toBe('ok');

    const [deleted] = await run('mysql-user', 'delete', [userItem]);
    expect(deleted).toMatchObject({ errorCode: '0', detail: `user ${account} dropped` });
    expect(await accountExists(admin, account)).toBe(false);
    expect(await canLogIn(account, next)).toBe('ER_ACCESS_DENIED_ERROR');
    const [again] = await run('mysql-user', 'delete', [userItem]);
    expect(again).toMatchObject({ errorCode: '0', detail: `user ${account} does not exist, nothing to drop` });
    const [missing] = await run('mysql-user', 'change-password', [{ ...userItem, databaseUserPassword: 'x-Pass-1' }]);
    expect(missing).toMatchObject({ errorCode: '1', errorMessage: `user ${account} not exist` });
  });

  it('creates names with quotes, backticks and semicolons literally, and nothing else runs', async () => {
    const victim = `${prefix}_victim`;
    schemas.push(victim);
    await admin.query({ sql: 'CREATE DATABASE ??', values: [victim] });
    const schema = `${prefix} q'u\`o;te"; DROP DATABASE ${victim}; --`.slice(0, 56).trimEnd();
    const owner = `${prefix}o'w\`n; DROP USER root`.slice(0, 80);
    named(schema, owner);
    const [out] = await run('mysql-database', 'add', [{ ...base, databaseName: schema, databaseOwnerName: owner, databaseOwnerGuid: 'g5' }]);
    expect(out).toMatchObject({ errorCode: '0', errorMessage: '' });
    const password = reveal('g5', out!['databaseOwnerPassword']);
    expect(await schemaNames(admin, `${prefix} q%`)).toEqual([schema]);
    expect(await schemaNames(admin, victim)).toEqual([victim]);
    expect(await accountExists(admin, owner)).toBe(true);
    expect(await canLogIn(owner, password, schema)).toBe('ok');

    const [deleted] = await run('mysql-database', 'delete', [{ ...base, databaseName: schema, databaseOwnerGuid: 'g5' }]);
    expect(deleted!['errorCode']).toBe('0');
    expect(await schemaNames(admin, `${prefix} q%`)).toEqual([]);
    expect(await schemaNames(admin, victim)).toEqual([victim]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a dot in a database name', { databaseName: 'a.b' }, 'Parameter databaseName validation failed: the characters . / \\ are not allowed'],
    [
      'a newline in an owner name',
      { databaseOwnerName: 'x\nDROP USER root' },
      'Parameter databaseOwnerName validation failed: control characters are not allowed',
    ],
    ['a quote in the admin user', { userName: "plugin' --" }, 'Parameter userName validation failed: userName contains an illegal character'],
  ])('refuses %s and creates nothing', async (_, patch, message) => {
    const schema = `${prefix}_refused`;
    const [out] = await run('mysql-database', 'add', [{ ...base, databaseName: schema, databaseOwnerName: `${prefix}_r`, databaseOwnerGuid: 'g6', ...patch }]);
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_INPUT', errorMessage: message });
    expect(await schemaNames(admin, `${prefix}_refused`)).toEqual([]);
    expect(await accountExists(admin, `${prefix}_r`)).toBe(false);
  });

  it('reports wrong admin credentials without the password', async () => {
    const wrong = 'Wr0ng-admin-pass';
    secrets.push(wrong);
    const [out] = await run('mysql-user', 'delete', [{ ...base, password: wrong, databaseUserName: 'nobody', databaseUserGuid: 'g7' }]);
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toMatch(new RegExp(`^Failed to connect to mysql: ${host}:${port}: ERROR 1045 \\(28000\\): Access denied for user '${user}'`));
    expect(out!['errorMessage']).not.toContain(wrong);
  });
});
