import { DatabaseError, InputError } from '../errors.js';
import { formatBatchOutput } from './format-batch-output.js';
import type { SqlResultSet, SqlSession } from './mysql-session.js';
import { splitSql } from './split-sql.js';

/** Rows kept in a response (a Lambda response is at most 6 MB); the rest is dropped and `truncated` set. */
export const MAX_ROWS = 5_000;

export interface ReadOnlyResult {
  /** The result sets of every statement, in order. */
  sets: SqlResultSet[];
  /** The same, as the mysql client prints it in batch mode. */
  output: string;
  statements: number;
  truncated: boolean;
}

function keepRows(sets: SqlResultSet[], budget: { left: number }): { sets: SqlResultSet[]; truncated: boolean } {
  let truncated = false;
  const kept = sets.map((set) => {
    const rows = set.rows.slice(0, Math.max(0, budget.left));
    if (rows.length < set.rows.length) truncated = true;
    budget.left -= rows.length;
    return { columns: set.columns, rows };
  });
  return { sets: kept, truncated };
}

/**
 * Runs the statements of `sql` so that the server refuses any change: before each statement the
 * session default and the transaction are both READ ONLY (a DDL's implicit commit leaves the session
 * default in force, a `SET SESSION TRANSACTION READ WRITE` is undone before the next statement), and
 * the transaction is rolled back after it. Throws InputError when there is no statement, DatabaseError
 * with the statement number and line for a refused one.
 */
export async function runReadOnly(session: SqlSession, sql: string): Promise<ReadOnlyResult> {
  const statements = splitSql(sql);
  if (statements.length === 0) throw new InputError('Parameter sql validation failed: no SQL statement in it');
  const result: ReadOnlyResult = { sets: [], output: '', statements: statements.length, truncated: false };
  const budget = { left: MAX_ROWS };
  for (const [index, statement] of statements.entries()) {
    await session.query('SET SESSION TRANSACTION READ ONLY');
    await session.query('START TRANSACTION READ ONLY');
    try {
      const { sets } = await session.query(statement.sql);
      const kept = keepRows(sets, budget);
      result.sets.push(...kept.sets);
      result.output += formatBatchOutput(kept.sets);
      result.truncated ||= kept.truncated;
    } catch (error) {
      if (error instanceof DatabaseError) {
        const where = statements.length > 1 ? `statement ${index + 1} (line ${statement.line}): ` : '';
        throw new DatabaseError(where + error.message, error, { cause: error });
      }
      throw error;
    } finally {
      await session.query('ROLLBACK').catch(() => undefined);
    }
  }
  return result;
}
