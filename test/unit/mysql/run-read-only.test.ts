import { describe, expect, it } from '@jest/globals';
import { DatabaseError, InputError } from '../../../lib/errors.js';
import { MAX_ROWS, runReadOnly } from '../../../lib/mysql/run-read-only.js';
import { fakeServer, rows } from './fake-sql.js';

const readOnly = new DatabaseError('ERROR 1792 (25006): Cannot execute statement in a READ ONLY transaction', { errno: 1792 });
const open = (server: ReturnType<typeof fakeServer>) => server.connect({ host: 'h', port: 1, user: 'u', password: 'p' });

describe('runReadOnly', () => {
  it('makes the session and the transaction read-only before every statement and rolls back after it', async () => {
    const server = fakeServer([[/^SELECT/, rows(['a'], ['1'])]]);
    const result = await runReadOnly(await open(server), 'SELECT 1 AS a;\nSET SESSION TRANSACTION READ WRITE;\nSELECT 2 AS a');
    expect(server.sent()).toEqual([
      'SET SESSION TRANSACTION READ ONLY', 'START TRANSACTION READ ONLY', 'SELECT 1 AS a', 'ROLLBACK',
      'SET SESSION TRANSACTION READ ONLY', 'START TRANSACTION READ ONLY', 'SET SESSION TRANSACTION READ WRITE', 'ROLLBACK',
      'SET SESSION TRANSACTION READ ONLY', 'START TRANSACTION READ ONLY', 'SELECT 2 AS a', 'ROLLBACK',
    ]);
    expect(result.statements).toBe(3);
    expect(result.output).toBe('a\n1\na\n1\n');
  });

  it("reports the server's refusal with the statement number and line", async () => {
    const server = fakeServer([[/UPDATE/, readOnly]]);
    const attempt = runReadOnly(await open(server), 'SELECT 1;\n/* looks harmless */\nUPDATE t SET a = 1');
    await expect(attempt).rejects.toThrow(DatabaseError);
    await expect(runReadOnly(await open(server), 'SELECT 1;\n/* looks harmless */\nUPDATE t SET a = 1')).rejects.toThrow(
      'statement 2 (line 3): ERROR 1792 (25006): Cannot execute statement in a READ ONLY transaction',
    );
    expect(server.sent().at(-1)).toBe('ROLLBACK');
  });

  it('refuses a text with no statement', async () => {
    await expect(runReadOnly(await open(fakeServer()), '-- nothing\n;')).rejects.toThrow(InputError);
  });

  it(`keeps at most ${MAX_ROWS} rows and says it truncated`, async () => {
    const many = Array.from({ length: MAX_ROWS + 10 }, (_, i) => [String(i)]);
    const server = fakeServer([[/^SELECT/, rows(['n'], ...many)]]);
    const result = await runReadOnly(await open(server), 'SELECT n FROM big');
    expect(result.sets[0]!.rows).toHaveLength(MAX_ROWS);
    expect(result.truncated).toBe(true);
  });
});
