import { describe, expect, it } from '@jest/globals';
import { DatabaseError, DatabaseUnavailableError, InputError } from '../../../lib/errors.js';
import { describeApplied } from '../../../lib/mysql/mysql-script-operations.js';
import { runSqlFiles } from '../../../lib/mysql/run-sql-files.js';
import { fakeServer, rows } from './fake-sql.js';

const noTable = new DatabaseError("ERROR 1146 (42S02): Table 'app.nope' doesn't exist", { errno: 1146, sqlState: '42S02', serverCode: 'ER_NO_SUCH_TABLE' });

const files = [
  { name: '001.sql', text: 'CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n' },
  { name: '002.sql', text: "INSERT INTO t VALUES (2);\n-- next one fails\n\nINSERT INTO nope VALUES (';');\nINSERT INTO t VALUES (3);" },
  { name: '003.sql', text: 'SELECT 1;' },
];

describe('runSqlFiles', () => {
  it('runs every statement of every file in order, one session per file, and reports counts and output', async () => {
    const server = fakeServer([
      [/^INSERT/, { affectedRows: 1 }],
      ['SELECT 1', rows(['1'], ['1'])],
    ]);
    const run = await runSqlFiles(
      () => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }),
      files.map((f) => ({ ...f, text: f.text.replace('nope', 't') })),
      { transaction: false },
    );
    expect(run.failed).toBeUndefined();
    expect(run.notRun).toEqual([]);
    expect(server.opened).toHaveLength(3);
    expect(server.closed).toBe(3);
    expect(run.files.map((f) => [f.file, f.status, f.total, f.statements, f.committed, f.rowsAffected])).toEqual([
      ['001.sql', 'applied', 2, 2, 2, 1],
      ['002.sql', 'applied', 3, 3, 3, 3],
      ['003.sql', 'applied', 1, 1, 1, 0],
    ]);
    expect(run.files[2]!.output).toBe('1\n1\n');
    expect(server.sent()).not.toContain('START TRANSACTION');
  });

  it('stops at a failing statement with its number, line and server code, and lists what was not run', async () => {
    const server = fakeServer([[/INTO nope/, noTable]]);
    const run = await runSqlFiles(() => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }), files, { transaction: false });
    expect(run.failed?.file).toBe('002.sql');
    expect(run.failed?.failure).toEqual({
      statement: 2,
      line: 4,
      message: noTable.message,
      errno: 1146,
      sqlState: '42S02',
      serverCode: 'ER_NO_SUCH_TABLE',
    });
    expect(run.notRun).toEqual(['003.sql']);
    expect(run.files.map((f) => [f.status, f.statements, f.committed])).toEqual([
      ['applied', 2, 2],
      ['failed', 1, 1],
    ]);
    expect(server.sent()).not.toContain('INSERT INTO t VALUES (3)');
    expect(server.closed).toBe(2);
    expect(describeApplied(run, false)).toBe('Applied before the failure: 001.sql (2 statements), 002.sql statement 1. Not run: 003.sql.');
  });

  it('runs each file in a transaction and rolls the failed one back', async () => {
    const server = fakeServer([
      [/^INSERT INTO t/, { affectedRows: 1, inTransaction: true }],
      [/INTO nope/, noTable],
    ]);
    const run = await runSqlFiles(() => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }), files.slice(1), { transaction: true });
    expect(server.sent()).toEqual(['SET autocommit = 0', 'START TRANSACTION', 'INSERT INTO t VALUES (2)', "INSERT INTO nope VALUES (';')", 'ROLLBACK']);
    expect(run.files[0]).toMatchObject({ status: 'failed', statements: 1, committed: 0 });
    expect(describeApplied(run, true)).toBe('Applied before the failure: 002.sql statement 1 (rolled back). Not run: 003.sql.');
  });

  it('counts statements before an implicit commit (DDL) as committed in a transaction', async () => {
    const server = fakeServer([
      [/^INSERT INTO t/, { affectedRows: 1, inTransaction: true }],
      [/^CREATE/, { inTransaction: false }],
      [/INTO nope/, noTable],
    ]);
    const script = { name: 'mixed.sql', text: 'INSERT INTO t VALUES (1);\nCREATE TABLE u (a INT);\nINSERT INTO t VALUES (2);\nINSERT INTO nope VALUES (1);' };
    const run = await runSqlFiles(() => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }), [script], { transaction: true });
    expect(run.files[0]).toMatchObject({ status: 'failed', statements: 3, committed: 2 });
    expect(describeApplied(run, true)).toBe('Applied before the failure: mixed.sql statements 1-3 (1-2 committed by DDL, the rest rolled back).');
  });

  it('commits a file that succeeds in a transaction', async () => {
    const server = fakeServer([[/^INSERT/, { affectedRows: 1, inTransaction: true }]]);
    const run = await runSqlFiles(
      () => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }),
      [{ name: 'a.sql', text: 'INSERT INTO t VALUES (1);' }],
      { transaction: true },
    );
    expect(server.sent().at(-1)).toBe('COMMIT');
    expect(run.files[0]).toMatchObject({ status: 'applied', statements: 1, committed: 1 });
  });

  it('reports a file whose session cannot be opened as failed before its first statement', async () => {
    let calls = 0;
    const server = fakeServer();
    const open = async () => {
      calls += 1;
      if (calls === 2) throw new DatabaseUnavailableError('127.0.0.1:1: ECONNREFUSED');
      return server.connect({ host: 'h', port: 1, user: 'u', password: 'p' });
    };
    const run = await runSqlFiles(open, files, { transaction: false });
    expect(run.failed?.file).toBe('002.sql');
    expect(run.failed?.error).toBeInstanceOf(DatabaseUnavailableError);
    expect(run.failed?.failure).toMatchObject({ statement: 0, line: 0 });
    expect(run.files[0]!.status).toBe('applied');
  });

  it('collects warning texts of statements that raised warnings', async () => {
    const server = fakeServer([
      [/^INSERT/, { affectedRows: 1, warnings: 1 }],
      ['SHOW WARNINGS', rows(['Level', 'Code', 'Message'], ['Warning', '1265', "Data truncated for column 'a' at row 1"])],
    ]);
    const run = await runSqlFiles(
      () => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }),
      [{ name: 'w.sql', text: '\n\nINSERT INTO t VALUES (1.5);' }],
      { transaction: false },
    );
    expect(run.files[0]!.warnings).toBe(1);
    expect(run.files[0]!.warningMessages).toEqual([{ statement: 1, line: 3, level: 'Warning', code: 1265, message: "Data truncated for column 'a' at row 1" }]);
  });

  it('refuses to start when any file has a bad DELIMITER line, before running anything', async () => {
    const server = fakeServer();
    const bad = [files[0]!, { name: 'bad.sql', text: 'DELIMITER \n' }];
    await expect(runSqlFiles(() => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }), bad, { transaction: false })).rejects.toThrow(InputError);
    await expect(runSqlFiles(() => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' }), bad, { transaction: false })).rejects.toThrow(
      'File bad.sql: DELIMITER',
    );
    expect(server.log).toEqual([]);
  });
});
