import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connection } from 'mysql2/promise';
import { encodeCipherA } from '../../lib/crypto/cipher-a.js';
import { operationsFor } from '../../scripts/lib/load-operations.js';
import type { Runtime } from '../../lib/runtime.js';
import type { Operation } from '../../lib/wecube/operation.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { adminConnection, mysqlEnv, putArtifact, removeArtifact, tarGz, unique, zip } from '../support/databases.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackRuntime } from '../support/stack.js';

// A full GC on demand (--expose-gc set at run time; the flag applies to functions created after it).
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SEED = 'abc12345';
const GUID = 'db-guid-1';

const schemaSql = [
  '-- 001: schema; a semicolon in a comment',
  '/* block comment; with a semicolon',
  '   over two lines */',
  'CREATE TABLE items (',
  '  id INT PRIMARY KEY AUTO_INCREMENT,',
  '  name VARCHAR(64) NOT NULL, -- trailing; comment',
  '  note VARCHAR(255) NULL',
  ');',
  'CREATE TABLE audit (item_id INT, action VARCHAR(16));',
  'CREATE TABLE `odd;name` (`col;1` INT); # hash; comment',
  '/*!40101 SET @kept = 41 + 1 */;',
  'INSERT INTO audit VALUES (0, @kept);',
].join('\n');

// CRLF on purpose: scripts written on Windows must split the same way.
const logicSql = [
  'DELIMITER $$',
  'CREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW',
  'BEGIN',
  "  INSERT INTO audit VALUES (NEW.id, 'insert;');",
  'END$$',
  '',
  'CREATE PROCEDURE add_item(IN n VARCHAR(64))',
  'BEGIN',
  "  INSERT INTO items (name, note) VALUES (n, 'via proc; ok');",
  'END $$',
  'DELIMITER ;',
].join('\r\n');

const dataSql = [
  "INSERT INTO items (name, note) VALUES ('semi;colon', 'it''s \"quoted\"; -- not a comment'), ('back`tick', 'a\\';b');",
  "CALL add_item('from proc');",
  'INSERT INTO `odd;name` (`col;1`) VALUES (7);',
  'SELECT name FROM items ORDER BY id',
].join('\n');

describe('mysql-script/run against the stack MariaDB', () => {
  let rt: Runtime;
  let ops: Operation[];
  let admin: Connection;
  const schemas: string[] = [];
  const keys: string[] = [];
  const prefix = unique('scripts');
  const { host, port, user, password: adminPassword } = mysqlEnv();
  const connection = (databaseName: string) => ({
    guid: GUID,
    seed: SEED,
    host,
    port,
    userName: user,
    password: encodeCipherA(GUID, SEED, adminPassword),
    databaseName,
  });
  const op = (action: string) => ops.find((o) => o.plugin === 'mysql-script' && o.action === action)!;
  const run = (action: string, items: unknown[]) =>
    runOperation(op(action), items, { logger: rt.logger, signal: new AbortController().signal, concurrency: 4 });
  const freshSchema = async (name: string) => {
    const schema = `${prefix}_${name}`;
    await admin.query(`CREATE DATABASE \`${schema}\``);
    schemas.push(schema);
    return schema;
  };
  const upload = async (name: string, body: Buffer | string) => {
    const key = `${prefix}/${name}`;
    keys.push(key);
    return putArtifact(key, body);
  };
  const column = async (sql: string, values: unknown[] = []) => {
    const [rows] = await admin.query({ sql, values, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => r[0]);
  };

  beforeAll(async () => {
    rt = stackRuntime();
    ops = await operationsFor(rt);
    admin = await adminConnection();
  });

  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP DATABASE IF EXISTS \`${schema}\``);
    await admin.end();
    for (const key of keys) await removeArtifact(key).catch(() => undefined);
    expect(capturedLogs.join('\n')).not.toContain(adminPassword);
  });

  it.each([
    ['tar.gz', 'migration.tar.gz', tarGz],
    ['zip', 'migration.zip', zip],
  ])('applies a multi-file migration from a %s in S3: DELIMITER, comments and strings with ;', async (_, name, pack) => {
    const schema = await freshSchema(name.replace(/\W/g, '_'));
    const archive = await pack({
      'db/001_schema.sql': schemaSql,
      'db/002_logic.sql': logicSql,
      'db/003_data.sql': dataSql,
      'db/README.md': 'not sql; ignored',
      'other/999_never.sql': 'DROP TABLE items;',
    });
    const endpoint = await upload(name, archive);
    const [out] = await run('run', [{ ...connection(schema), endpoint, sql_files: 'db/*.sql', callbackParameter: 'cb' }]);

    expect(out).toMatchObject({ errorCode: '0', errorMessage: '', callbackParameter: 'cb' });
    expect((out!['files'] as any[]).map((f) => [f.file, f.status, f.statements, f.rowsAffected])).toEqual([
      ['db/001_schema.sql', 'applied', 5, 1],
      ['db/002_logic.sql', 'applied', 2, 0],
      ['db/003_data.sql', 'applied', 4, 4],
    ]);
    expect(out!['detail']).toBe('sql_0_output:  sql_1_output:  sql_2_output:name\nsemi;colon\nback`tick\nfrom proc\n  ');

    expect(await column('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [schema])).toEqual([
      'audit',
      'items',
      'odd;name',
    ]);
    expect(await column('SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?', [schema])).toEqual(['add_item']);
    expect(await column('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?', [schema])).toEqual(['items_ai']);
    const [items] = await admin.query({ sql: `SELECT name, note FROM \`${schema}\`.items ORDER BY id`, rowsAsArray: true });
    expect(items).toEqual([
      ['semi;colon', 'it\'s "quoted"; -- not a comment'],
      ['back`tick', "a';b"],
      ['from proc', 'via proc; ok'],
    ]);
    const [audit] = await admin.query({ sql: `SELECT item_id, action FROM \`${schema}\`.audit ORDER BY item_id`, rowsAsArray: true });
    expect(audit).toEqual([
      [0, '42'],
      [1, 'insert;'],
      [2, 'insert;'],
      [3, 'insert;'],
    ]);
    expect(await column(`SELECT \`col;1\` FROM \`${schema}\`.\`odd;name\``)).toEqual([7]);
  });

  describe('a failing statement in the second file', () => {
    const first = 'CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n';
    const second =
      "INSERT INTO t VALUES (2);\nINSERT INTO t VALUES (3);\n\n-- the next one fails\nINSERT INTO missing VALUES (';');\nINSERT INTO t VALUES (4);\n";
    let endpoints: string;
    beforeAll(async () => {
      endpoints = [await upload('fail/a.sql', first), await upload('fail/b.sql', second)].join(',');
    });

    it('reports file, statement, line, server error, and what file 1 applied', async () => {
      const schema = await freshSchema('fail_plain');
      const [out] = await run('run', [{ ...connection(schema), endpoint: endpoints }]);
      expect(out!['errorCode']).toBe('1');
      expect(out!['errorType']).toBe('E_DATABASE');
      expect(out!['errorMessage']).toBe(
        `Failed to run script b.sql to ${host}_${schema}: statement 3 (line 5): ERROR 1146 (42S02): Table '${schema}.missing' doesn't exist. ` +
          'Applied before the failure: a.sql (2 statements), b.sql statements 1-2.',
      );
      expect(out!['files']).toEqual([
        expect.objectContaining({ file: 'a.sql', status: 'applied', statements: 2, committed: 2 }),
        expect.objectContaining({
          file: 'b.sql',
          status: 'failed',
          statements: 2,
          committed: 2,
          error: expect.objectContaining({ statement: 3, line: 5, errno: 1146, sqlState: '42S02', serverCode: 'ER_NO_SUCH_TABLE' }),
        }),
      ]);
      expect(await column(`SELECT a FROM \`${schema}\`.t ORDER BY a`)).toEqual([1, 2, 3]);
    });

    it('with transaction, keeps file 1 and rolls back the DML of file 2', async () => {
      const schema = await freshSchema('fail_tx');
      const [out] = await run('run', [{ ...connection(schema), endpoint: endpoints, transaction: 'Y' }]);
      expect(out!['errorCode']).toBe('1');
      expect(out!['errorMessage']).toContain('statement 3 (line 5): ERROR 1146');
      expect(out!['errorMessage']).toContain('Applied before the failure: a.sql (2 statements), b.sql statements 1-2 (rolled back).');
      expect(out!['files']).toEqual([
        expect.objectContaining({ file: 'a.sql', status: 'applied', committed: 2 }),
        expect.objectContaining({ file: 'b.sql', status: 'failed', statements: 2, committed: 0 }),
      ]);
      expect(await column(`SELECT a FROM \`${schema}\`.t ORDER BY a`)).toEqual([1]);
    });

    it('with transaction, cannot roll back what a DDL statement committed, and says so', async () => {
      const schema = await freshSchema('fail_ddl');
      const mixed = await upload(
        'fail/mixed.sql',
        'CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\nCREATE TABLE u (b INT);\nINSERT INTO t VALUES (2);\nINSERT INTO missing VALUES (0);\n',
      );
      const [out] = await run('run', [{ ...connection(schema), endpoint: mixed, transaction: true }]);
      expect(out!['errorMessage']).toContain('mixed.sql statements 1-4 (1-3 committed by DDL, the rest rolled back)');
      expect(await column(`SELECT a FROM \`${schema}\`.t ORDER BY a`)).toEqual([1]);
      expect(await column('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [schema])).toEqual(['t', 'u']);
    });
  });

  it.each<[string, (e: string) => Record<string, unknown>, string]>([
    ['an archive without sql_files', (e) => ({ endpoint: e }), 'Parameter sql_files can not empty.'],
    ['a missing file in the archive', (e) => ({ endpoint: e, sql_files: 'db/nope.sql' }), 'File db/nope.sql does not exist.'],
    ['a glob matching nothing', (e) => ({ endpoint: e, sql_files: 'db/*.txt' }), 'Try to find db/*.txt sql file fail,can not fetch any file'],
    [
      'two archives',
      (e) => ({ endpoint: `${e},${e}`, sql_files: '*.sql' }),
      'Parameter endpoint validation failed: endpoint must be one when suffix not like *.sql',
    ],
    ['a missing object', (e) => ({ endpoint: e.replace('bad.tgz', 'gone.sql') }), 'is not found.'],
    ['a rar', (e) => ({ endpoint: e.replace('bad.tgz', 'x.rar'), sql_files: 'a.sql' }), 'File x.rar is illegal to be recognized as a compressed file type'],
  ])('refuses %s and runs nothing', async (_, patch, message) => {
    const schema = await freshSchema(`refuse_${schemas.length}`);
    const endpoint = await upload('bad.tgz', await tarGz({ 'db/a.sql': 'CREATE TABLE should_not_exist (a INT);' }));
    const [out] = await run('run', [{ ...connection(schema), ...patch(endpoint) }]);
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toContain(message);
    expect(await column('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [schema])).toEqual([]);
  });

  describe('run-custom-sql', () => {
    let schema: string;
    beforeAll(async () => {
      schema = await freshSchema('custom');
      await admin.query(`CREATE TABLE \`${schema}\`.items (id INT PRIMARY KEY, name VARCHAR(32))`);
      await admin.query(`INSERT INTO \`${schema}\`.items VALUES (1, 'a\tb'), (2, NULL)`);
      await admin.query(`CREATE FUNCTION \`${schema}\`.bump() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE items SET name = 'bumped'; RETURN 1; END`);
    });
    const state = () => column(`SELECT CONCAT(id, ':', IFNULL(name, 'null')) FROM \`${schema}\`.items ORDER BY id`);

    it('returns rows and upstream tab-separated detail', async () => {
      const [out] = await run('run-custom-sql', [{ ...connection(schema), sql: 'SELECT id, name FROM items ORDER BY id;' }]);
      expect(out).toMatchObject({
        errorCode: '0',
        columns: ['id', 'name'],
        rows: [
          { id: '1', name: 'a\tb' },
          { id: '2', name: null },
        ],
        detail: 'sql_0_output:id\tname\n1\ta\\tb\n2\tNULL\n  ',
        truncated: false,
      });
    });

    it.each([
      ['a plain UPDATE', "UPDATE items SET name = 'x'", 'statement 1 (line 1): UPDATE'],
      ['an UPDATE behind comments', "/* just a report */ -- select\n UPDATE items SET name = 'x'", 'statement 1 (line 2): UPDATE'],
      ['an UPDATE joined to a CTE', "UPDATE items, (WITH c AS (SELECT 1 AS id) SELECT id FROM c) d SET items.name = 'x' WHERE items.id = d.id", 'UPDATE'],
      ['a DELETE after switching the session to read-write', 'SET SESSION TRANSACTION READ WRITE; DELETE FROM items', 'statement 1 (line 1): SET'],
      ['a DDL statement', 'DROP TABLE items', 'DROP'],
      ['a COMMIT then an INSERT', "COMMIT; INSERT INTO items VALUES (3, 'x')", 'statement 1 (line 1): COMMIT'],
      ['a WITH ... DELETE', 'WITH c AS (SELECT 1 AS id) DELETE FROM items', 'DELETE'],
    ])('refuses %s before the server sees it', async (_, sql, what) => {
      const before = await state();
      const [out] = await run('run-custom-sql', [{ ...connection(schema), sql }]);
      expect(out!['errorCode']).toBe('1');
      expect(out!['errorType']).toBe('E_INPUT');
      expect(out!['errorMessage']).toContain(`${what} is not allowed in run-custom-sql`);
      expect(await state()).toEqual(before);
      expect(before).toEqual(['1:a\tb', '2:null']);
    });

    it('has the server refuse what the guard lets through: a SELECT calling a function that writes', async () => {
      const [out] = await run('run-custom-sql', [{ ...connection(schema), sql: 'SELECT bump()' }]);
      expect(out!['errorCode']).toBe('1');
      expect(out!['errorMessage']).toMatch(/ERROR 1792 \(25006\): Cannot execute statement in a READ ONLY transaction/);
      expect(await state()).toEqual(['1:a\tb', '2:null']);
    });

    describe('files on the database server', () => {
      // The stack's MariaDB runs as root with no secure_file_priv: a guard that lets INTO OUTFILE through
      // writes the canary, and only the canary, in a directory this test made.
      let dir: string;
      beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), 'custom-sql-canary-'));
      });
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      it.each([
        ['INTO OUTFILE', (path: string) => `SELECT id, name FROM items INTO OUTFILE '${path}'`, 'INTO'],
        ['INTO DUMPFILE', (path: string) => `SELECT name FROM items LIMIT 1 INTO DUMPFILE '${path}'`, 'INTO'],
        ['INTO OUTFILE inside an executable comment', (path: string) => `SELECT 1 /*! INTO OUTFILE '${path}' */`, 'an executable comment (/*! ... */)'],
        [
          'INTO OUTFILE inside a versioned executable comment',
          (path: string) => `SELECT 1 /*!10000 INTO OUTFILE '${path}' */`,
          'an executable comment (/*! ... */)',
        ],
        ['INTO OUTFILE behind a backslash NO_BACKSLASH_ESCAPES would end a string at', (path: string) => `SELECT 'a\\' INTO OUTFILE '${path}' -- '`, 'INTO'],
      ])('refuses %s and writes no file', async (_, sql, what) => {
        const canary = join(dir, `${unique('canary')}.txt`);
        const [out] = await run('run-custom-sql', [{ ...connection(schema), sql: sql(canary) }]);
        expect(out!['errorCode']).toBe('1');
        expect(out!['errorMessage']).toContain(`${what} is not allowed in run-custom-sql`);
        expect(out!['errorMessage']).not.toContain(canary);
        expect(existsSync(canary)).toBe(false);
      });

      it('refuses LOAD_FILE, which reads a server file', async () => {
        const secret = join(dir, 'secret.txt');
        writeFileSync(secret, 'canary-secret-content');
        const [out] = await run('run-custom-sql', [{ ...connection(schema), sql: `SELECT LOAD_FILE('${secret}') AS f` }]);
        expect(out!['errorMessage']).toContain('LOAD_FILE is not allowed in run-custom-sql');
        expect(JSON.stringify(out)).not.toContain('canary-secret-content');
      });
    });

    it('refuses SET GLOBAL and leaves the server setting as it was', async () => {
      const before = await column('SELECT @@GLOBAL.max_connect_errors');
      expect(before).not.toEqual(['4242']);
      try {
        const [out] = await run('run-custom-sql', [{ ...connection(schema), sql: 'SET GLOBAL max_connect_errors = 4242' }]);
        expect(out!['errorMessage']).toContain('SET is not allowed in run-custom-sql');
        expect(await column('SELECT @@GLOBAL.max_connect_errors')).toEqual(before);
      } finally {
        // A broken guard must not leave the shared server changed.
        await admin.query(`SET GLOBAL max_connect_errors = ${Number(before[0])}`);
      }
    });

    it('streams a 200,000-row result: keeps MAX_ROWS, stops the server, and holds far less than the whole result', async () => {
      // 200,000 rows of ~500 bytes (100 MB): read whole, it costs the process about that; streamed, a few MB.
      const sql = `SELECT seq AS n, REPEAT('x', 500) AS pad FROM \`${schema}\`.seq_1_to_200000`;
      const marker = unique('stream');
      // Growth = the peak of *live* heap while it runs over the heap at its start: a full GC before each sample
      // (every 20 ms), so that garbage (rows parsed and dropped while the server is being stopped, whose amount
      // depends on how busy the machine is) does not count as held. RSS at the end was noisy: a heap already
      // grown by earlier tests is reused without growing RSS again.
      const measure = async (fn: () => Promise<unknown>) => {
        gc();
        const base = process.memoryUsage().heapUsed;
        let peak = base;
        const sampler = setInterval(() => {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        }, 20);
        const started = process.hrtime.bigint();
        try {
          const value = await fn();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
          return { value, ms: Number(process.hrtime.bigint() - started) / 1e6, grew: peak - base };
        } finally {
          clearInterval(sampler);
        }
      };
      const streamed = await measure(() => run('run-custom-sql', [{ ...connection(schema), sql: `${sql} WHERE '${marker}' <> ''` }]));
      const [out] = streamed.value as Array<Record<string, unknown>>;
      expect(out).toMatchObject({ errorCode: '0', truncated: true, columns: ['n', 'pad'] });
      expect((out!['rows'] as unknown[]).length).toBe(5000);
      expect((out!['rows'] as Array<Record<string, string>>)[4999]).toEqual({ n: '5000', pad: 'x'.repeat(500) });
      expect(String(out!['detail']).split('\n')).toHaveLength(5002); // header, 5000 rows, then the trailing "  "
      // The same rows read whole, as session.query did before: the reference for time and memory.
      const whole = await measure(async () => {
        const [rows] = await admin.query({ sql, rowsAsArray: true });
        return (rows as unknown[]).length;
      });
      expect(whole.value).toBe(200_000);
      expect(streamed.ms / whole.ms).toBeLessThan(0.5);
      expect(streamed.grew / Math.max(whole.grew, 1)).toBeLessThan(0.25);
      // The statement is not left running (or blocked on a full socket) on the server.
      const running = await column('SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()', [`%${marker}%`]);
      expect(running).toEqual([]);
    });

    it('is what mysql-script/run does with sql instead of endpoint, over HTTP at the legacy alias', async () => {
      const server: RunningServer = await startServer({ AUTH_MODE: 'off' });
      try {
        const { status, body } = await postJson(server.url + '/v1/deploy/database/runScript', {
          inputs: [
            { ...connection(schema), sql: 'SELECT COUNT(*) AS n FROM items' },
            { ...connection(schema), sql: 'DELETE FROM items WHERE id = 1' },
            { ...connection(schema), endpoint: '', sql: '' },
          ],
        });
        expect(status).toBe(200);
        const outputs = body['results'].outputs as Array<Record<string, unknown>>;
        expect(outputs[0]).toMatchObject({ errorCode: '0', rows: [{ n: '2' }] });
        expect(outputs[1]!['errorMessage']).toContain('DELETE is not allowed in run-custom-sql');
        expect(outputs[2]!['errorMessage']).toBe('Parameter endpoint or sql can not empty.');
        expect(await state()).toEqual(['1:a\tb', '2:null']);
      } finally {
        await server.stop();
      }
      expect(server.output()).not.toContain(adminPassword);
    });
  });

  it('stops a statement past DB_QUERY_TIMEOUT_MS and kills it on the server', async () => {
    const quick = stackRuntime({ DB_QUERY_TIMEOUT_MS: '1500' });
    const custom = (await operationsFor(quick)).find((o) => o.plugin === 'mysql-script' && o.action === 'run-custom-sql')!;
    const marker = unique('sleep');
    const started = Date.now();
    const [out] = await runOperation(custom, [{ ...connection('mysql'), sql: `SELECT SLEEP(30) AS \`${marker}\`` }], {
      logger: quick.logger,
      signal: new AbortController().signal,
      concurrency: 1,
    });
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_DB_UNAVAILABLE', errorMessage: `Failed to run script custom sql to ${host}_mysql: timed out` });
    expect(Date.now() - started).toBeLessThan(5000);
    let running: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      running = await column('SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()', [`%SLEEP(30) AS \`${marker}%`]);
      if (running.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(running).toEqual([]);
  });

  it('gives up on an unreachable server after DB_CONNECT_TIMEOUT_MS', async () => {
    const quick = stackRuntime({ DB_CONNECT_TIMEOUT_MS: '1000' });
    const custom = (await operationsFor(quick)).find((o) => o.plugin === 'mysql-script' && o.action === 'run-custom-sql')!;
    const started = Date.now();
    const [out] = await runOperation(custom, [{ ...connection('x'), host: '10.255.255.1', sql: 'SELECT 1' }], {
      logger: quick.logger,
      signal: new AbortController().signal,
      concurrency: 1,
    });
    expect(out).toMatchObject({
      errorCode: '1',
      errorType: 'E_DB_UNAVAILABLE',
      errorMessage: 'Failed to connect to mysql: 10.255.255.1:' + port + ': connect timed out',
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('reports a dead database precisely and within its deadline', async () => {
    const started = Date.now();
    const [out] = await run('run-custom-sql', [{ ...connection('x'), port: 1, sql: 'SELECT 1' }]);
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_DB_UNAVAILABLE', errorMessage: `Failed to connect to mysql: ${host}:1: ECONNREFUSED` });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
