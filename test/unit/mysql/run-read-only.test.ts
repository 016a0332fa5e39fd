import { describe, expect, it } from '@jest/globals';
import { DatabaseError, InputError } from '../../../lib/errors.js';
import { MAX_ROWS, runInReadOnlyTransactions, runReadOnly } from '../../../lib/mysql/run-read-only.js';
import { splitSql } from '../../../lib/mysql/split-sql.js';
import { fakeServer, rows } from './fake-sql.js';

const readOnly = new DatabaseError('ERROR 1792 (25006): Cannot execute statement in a READ ONLY transaction', { errno: 1792 });
const open = (server: ReturnType<typeof fakeServer>) => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' });

describe('runReadOnly', () => {
  it('makes the session and the transaction read-only before every statement and rolls back after it', async () => {
    const server = fakeServer([[/^SELECT/, rows(['a'], ['1'])]]);
    // The guard refuses the SET; the transactions are the second barrier, so they are tested without it.
    const result = await runInReadOnlyTransactions(await open(server), splitSql('SELECT 1 AS a;\nSET SESSION TRANSACTION READ WRITE;\nSELECT 2 AS a'));
    expect(server.sent()).toEqual([
      'SET SESSION TRANSACTION READ ONLY',
      'START TRANSACTION READ ONLY',
      'SELECT 1 AS a',
      'ROLLBACK',
      'SET SESSION TRANSACTION READ ONLY',
      'START TRANSACTION READ ONLY',
      'SET SESSION TRANSACTION READ WRITE',
      'ROLLBACK',
      'SET SESSION TRANSACTION READ ONLY',
      'START TRANSACTION READ ONLY',
      'SELECT 2 AS a',
      'ROLLBACK',
    ]);
    expect(result.statements).toBe(3);
    expect(result.output).toBe('a\n1\na\n1\n');
  });

  it("reports the server's refusal with the statement number and line", async () => {
    const server = fakeServer([[/bump/, readOnly]]);
    const attempt = runReadOnly(await open(server), 'SELECT 1;\n/* looks harmless */\nSELECT bump()');
    await expect(attempt).rejects.toThrow(DatabaseError);
    await expect(runReadOnly(await open(server), 'SELECT 1;\n/* looks harmless */\nSELECT bump()')).rejects.toThrow(
      'statement 2 (line 3): ERROR 1792 (25006): Cannot execute statement in a READ ONLY transaction',
    );
    expect(server.sent().at(-1)).toBe('ROLLBACK');
  });

  it('refuses a text with no statement', async () => {
    await expect(runReadOnly(await open(fakeServer()), '-- nothing\n;')).rejects.toThrow(InputError);
  });

  it('refuses a statement that is not a query before sending anything', async () => {
    const server = fakeServer();
    await expect(runReadOnly(await open(server), "SELECT 1;\nSELECT 1 INTO OUTFILE '/tmp/x'")).rejects.toThrow(
      'statement 2 (line 2): INTO is not allowed in run-custom-sql',
    );
    expect(server.sent()).toEqual([]);
  });

  it('stops after the statement that reached the cap and gives the rest of the budget to the next ones', async () => {
    const server = fakeServer([
      [/^SELECT a/, rows(['a'], ...Array.from({ length: MAX_ROWS - 1 }, () => ['1']))],
      [/^SELECT b/, rows(['b'], ['1'], ['2'])],
    ]);
    const result = await runReadOnly(await open(server), 'SELECT a FROM t;\nSELECT b FROM t;\nSELECT c FROM t');
    expect(result.sets.map((s) => s.rows.length)).toEqual([MAX_ROWS - 1, 1]);
    expect(result.truncated).toBe(true);
    expect(server.sent().filter((s) => s.startsWith('SELECT'))).toEqual(['SELECT a FROM t', 'SELECT b FROM t']);
  });

  it(`keeps at most ${MAX_ROWS} rows and says it truncated`, async () => {
    const many = Array.from({ length: MAX_ROWS + 10 }, (_, i) => [String(i)]);
    const server = fakeServer([[/^SELECT/, rows(['n'], ...many)]]);
    const result = await runReadOnly(await open(server), 'SELECT n FROM big');
    expect(result.sets[0]!.rows).toHaveLength(MAX_ROWS);
    expect(result.truncated).toBe(true);
  });
});
