import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { decodeCipherA, encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { DatabaseError } from '../../../lib/errors.js';
import { mysqlDatabaseAdd, mysqlDatabaseDelete } from '../../../lib/mysql/mysql-database-operations.js';
import { mysqlUserAdd, mysqlUserChangePassword, mysqlUserDelete } from '../../../lib/mysql/mysql-user-operations.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { captureLogger } from '../helpers.js';
import { fakeServer, rows, type Rule } from './fake-sql.js';

const SEED = 'abc12345';
const ADMIN_PASSWORD = 'Adm1n-Secret';
const config = loadConfig({ AUTH_MODE: 'off' });
const admin = { host: 'db.internal', port: 3306, userName: 'root', guid: 'g1', seed: SEED, password: encodeCipherA('g1', SEED, ADMIN_PASSWORD) };

function setup(rules: Rule[] = []) {
  const server = fakeServer(rules);
  const { logger, lines } = captureLogger();
  const ctx = { logger, signal: new AbortController().signal, concurrency: 2 };
  return { server, ctx, lines, deps: { config, connect: server.connect } };
}

const mutations = (sent: string[]) => sent.filter((s) => /^(CREATE|DROP|GRANT|REVOKE|ALTER|SET PASSWORD)/.test(s));

describe('mysql-database/add', () => {
  const item = { ...admin, databaseName: 'app_db', databaseOwnerName: 'app', databaseOwnerGuid: 'og1' };

  it('creates the schema, a new owner with a generated password, and grants exactly that schema', async () => {
    const { server, ctx, deps, lines } = setup();
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [item], ctx);
    expect(out).toMatchObject({ errorCode: '0', databaseOwnerGuid: 'og1' });
    expect(server.opened[0]).toMatchObject({ host: 'db.internal', port: 3306, user: 'root', password: ADMIN_PASSWORD });
    expect(mutations(server.sent())).toEqual(['CREATE DATABASE ??', 'CREATE USER ?@? IDENTIFIED BY ?', 'GRANT ALL PRIVILEGES ON ??.* TO ?@?']);
    const createUser = server.log.find((l) => l.sql.startsWith('CREATE USER'))!;
    const generated = createUser.params![2] as string;
    expect(generated).toMatch(/^[A-Za-z0-9_]{16}$/);
    expect(decodeCipherA('og1', SEED, out!['databaseOwnerPassword'] as string)).toBe(generated);
    expect(server.log.find((l) => l.sql.startsWith('GRANT'))!.params).toEqual(['app\\_db', 'app', '%']);
    expect(server.sent()[0]).toMatch(/NO_BACKSLASH_ESCAPES/);
    expect(server.closed).toBe(1);
    expect(lines.join('\n')).not.toContain(generated);
    expect(lines.join('\n')).not.toContain(ADMIN_PASSWORD);
  });

  it('grants an existing owner without creating it or returning a password', async () => {
    const { server, ctx, deps } = setup([[/FROM mysql.user/, rows(['User', 'Host'], ['app', '%'])]]);
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [item], ctx);
    expect(out!['errorCode']).toBe('0');
    expect(out).not.toHaveProperty('databaseOwnerPassword');
    expect(mutations(server.sent())).toEqual(['CREATE DATABASE ??', 'GRANT ALL PRIVILEGES ON ??.* TO ?@?']);
  });

  it('refuses an existing schema and changes nothing', async () => {
    const { server, ctx, deps } = setup([[/information_schema.SCHEMATA/, rows(['SCHEMA_NAME'], ['app_db'])]]);
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [item], ctx);
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'Failed to add mysql database and user: database app_db already exists' });
    expect(mutations(server.sent())).toEqual([]);
  });

  it('treats a schema differing only in case as another schema', async () => {
    const { server, ctx, deps } = setup([[/information_schema.SCHEMATA/, rows(['SCHEMA_NAME'], ['APP_DB'])]]);
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [item], ctx);
    expect(out!['errorCode']).toBe('0');
    expect(mutations(server.sent())[0]).toBe('CREATE DATABASE ??');
  });

  it('removes the schema and the new owner again when the grant fails', async () => {
    const { server, ctx, deps } = setup([[/^GRANT/, new DatabaseError('ERROR 1044 (42000): Access denied', { errno: 1044 })]]);
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [item], ctx);
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toContain('ERROR 1044 (42000): Access denied (database removed again)');
    expect(mutations(server.sent())).toEqual([
      'CREATE DATABASE ??',
      'CREATE USER ?@? IDENTIFIED BY ?',
      'GRANT ALL PRIVILEGES ON ??.* TO ?@?',
      'DROP USER ?@?',
      'DROP DATABASE ??',
    ]);
  });

  it('creates nothing when no seed resolves to encrypt the generated password with', async () => {
    const { server, ctx, deps } = setup();
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [{ ...item, seed: '', password: 'plain-admin' }], ctx);
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'Parameter seed can not empty.' });
    expect(mutations(server.sent())).toEqual([]);
  });

  it('masks a password the server quotes back in an error', async () => {
    const given = 'Own3r-Pass;word';
    const { ctx, deps, lines } = setup([
      [/^CREATE USER/, (params) => new DatabaseError(`ERROR 1064 (42000): syntax error near '${String(params?.[2])}'`, { errno: 1064 })],
    ]);
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [{ ...item, databaseOwnerPassword: encodeCipherA('og1', SEED, given) }], ctx);
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toContain("near '[redacted]'");
    expect(out!['errorMessage']).not.toContain(given);
    expect(lines.join('\n')).not.toContain(given);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ host: '' }, 'Parameter host can not empty.'],
    [{ host: 'db;rm -rf' }, 'Parameter host validation failed: must be a host name or an IP address'],
    [{ userName: "ro'ot" }, 'Parameter userName validation failed: userName contains an illegal character'],
    [{ port: 'x' }, 'Parameter port validation failed: Port is not num'],
    [{ databaseName: '' }, 'Parameter databaseName can not empty.'],
    [{ databaseName: 'a.b' }, 'Parameter databaseName validation failed: the characters . / \\ are not allowed'],
    [{ databaseOwnerName: 'x\ny' }, 'Parameter databaseOwnerName validation failed: control characters are not allowed'],
    [{ databaseOwnerGuid: null }, 'Parameter databaseOwnerGuid can not empty.'],
  ])('refuses %j before connecting', async (patch, message) => {
    const { server, ctx, deps } = setup();
    const [out] = await runOperation(mysqlDatabaseAdd(deps), [{ ...item, ...patch }], ctx);
    expect(out).toMatchObject({ errorCode: '1', errorMessage: message });
    expect(server.opened).toEqual([]);
  });
});

describe('mysql-database/delete', () => {
  it('revokes the grants found on the schema, drops it, and says a missing one is missing', async () => {
    const { server, ctx, deps } = setup([[/FROM mysql.db/, rows(['User', 'Host', 'Db'], ['app', '%', 'app\\_db'])]]);
    const [out] = await runOperation(mysqlDatabaseDelete(deps), [{ ...admin, databaseName: 'app_db', databaseOwnerGuid: 'og1' }], ctx);
    expect(out).toMatchObject({ errorCode: '0', detail: "database app_db does not exist, nothing to drop; privileges revoked from 'app'@'%'" });
    expect(server.log.find((l) => l.sql.startsWith('REVOKE'))!.params).toEqual(['app\\_db', 'app', '%']);
    expect(mutations(server.sent())).toEqual(['REVOKE ALL PRIVILEGES ON ??.* FROM ?@?']);
  });

  it.each(['mysql', 'MySQL', 'sys', 'information_schema', 'PERFORMANCE_SCHEMA', '`mysql`', '` sys`'])(
    'refuses the system schema %j without connecting',
    async (name) => {
      const { server, ctx, deps } = setup();
      const [out] = await runOperation(mysqlDatabaseDelete(deps), [{ ...admin, databaseName: name, databaseOwnerGuid: 'og1' }], ctx);
      expect(out).toMatchObject({
        errorCode: '1',
        errorMessage: expect.stringMatching(
          /^Parameter databaseName validation failed: [a-z_]+ is a system schema of the server; it is never dropped \(on db\.internal:3306\)$/,
        ),
      });
      expect(server.opened).toEqual([]);
    },
  );
});

describe('mysql-user/delete', () => {
  it.each(['root', 'ROOT', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'mariadb.sys', '`root`'])(
    'refuses the system account %j without connecting',
    async (name) => {
      const { server, ctx, deps } = setup();
      const [out] = await runOperation(mysqlUserDelete(deps), [{ ...admin, databaseUserName: name, databaseUserGuid: 'ug' }], ctx);
      expect(out!['errorMessage']).toMatch(
        /^Parameter databaseUserName validation failed: .* is a system account of the server; it is never dropped \(on db\.internal:3306\)$/,
      );
      expect(server.opened).toEqual([]);
    },
  );

  it('drops any other account', async () => {
    const { server, ctx, deps } = setup([[/FROM mysql.user/, rows(['User', 'Host'], ['rooted', '%'])]]);
    const [out] = await runOperation(mysqlUserDelete(deps), [{ ...admin, databaseUserName: 'rooted', databaseUserGuid: 'ug' }], ctx);
    expect(out).toMatchObject({ errorCode: '0', detail: 'user rooted dropped' });
    expect(mutations(server.sent())).toEqual(['DROP USER ?@?']);
  });
});

describe('mysql-user', () => {
  it('add refuses an existing account', async () => {
    const { server, ctx, deps } = setup([[/FROM mysql.user/, rows(['User', 'Host'], ['bob', '%'])]]);
    const [out] = await runOperation(mysqlUserAdd(deps), [{ ...admin, databaseUserName: 'bob', databaseUserGuid: 'ug' }], ctx);
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'Failed to Add mysql user:bob, user already exist' });
    expect(mutations(server.sent())).toEqual([]);
  });

  it('add with a database grants SELECT only on the mysql schema', async () => {
    const { server, ctx, deps } = setup();
    const [out] = await runOperation(
      mysqlUserAdd(deps),
      [{ ...admin, databaseUserName: 'bob', databaseUserGuid: 'ug', databaseUserPassword: 'Plain-Pass-1', databaseName: 'mysql' }],
      ctx,
    );
    expect(out!['errorCode']).toBe('0');
    expect(decodeCipherA('ug', SEED, out!['databaseUserPassword'] as string)).toBe('Plain-Pass-1');
    expect(mutations(server.sent())).toEqual(['CREATE USER ?@? IDENTIFIED BY ?', 'GRANT SELECT ON ??.* TO ?@?']);
  });

  it('change-password falls back to SET PASSWORD on a server without ALTER USER', async () => {
    const { server, ctx, deps } = setup([
      [/FROM mysql.user/, rows(['User', 'Host'], ['bob', '%'])],
      [/^ALTER USER/, new DatabaseError('ERROR 1064 (42000): syntax', { errno: 1064 })],
    ]);
    const [out] = await runOperation(
      mysqlUserChangePassword(deps),
      [{ ...admin, databaseUserName: 'bob', databaseUserGuid: 'ug', databaseUserPassword: 'N3w-Pass' }],
      ctx,
    );
    expect(out!['errorCode']).toBe('0');
    expect(mutations(server.sent())).toEqual(['ALTER USER ?@? IDENTIFIED BY ?', 'SET PASSWORD FOR ?@? = PASSWORD(?)']);
    expect(server.log.at(-1)!.params).toEqual(['bob', '%', 'N3w-Pass']);
  });

  it('change-password of a missing account says so and changes nothing', async () => {
    const { server, ctx, deps } = setup();
    const [out] = await runOperation(
      mysqlUserChangePassword(deps),
      [{ ...admin, databaseUserName: 'ghost', databaseUserGuid: 'ug', databaseUserPassword: 'N3w-Pass' }],
      ctx,
    );
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'user ghost not exist' });
    expect(mutations(server.sent())).toEqual([]);
  });
});
