import { DatabaseError, InputError } from '../errors.js';
import { formatBatchOutput } from './format-batch-output.js';
import type { SqlResultSet, SqlSession } from './mysql-session.js';
import { assertReadOnlyStatements } from './read-only-statement.js';
import { splitSql, type SqlStatement } from './split-sql.js';

/** Rows kept in a response (a Lambda response is at most 6 MB); the rest is never read and `truncated` set. */
export const MAX_ROWS = 5_000;

export interface ReadOnlyResult {
  /** The result sets of every statement run, in order. */
  sets: SqlResultSet[];
  /** The same, as the mysql client prints it in batch mode. */
  output: string;
  statements: number;
  truncated: boolean;
}

/**
 * The statements of run-custom-sql: split as the mysql client does, each one judged a read-only query
 * (read-only-statement.ts). Throws InputError, before anything is sent to a server.
 */
export function readOnlyStatements(sql: string): SqlStatement[] {
  const statements = splitSql(sql);
  if (statements.length === 0) throw new InputError('Parameter sql validation failed: no SQL statement in it');
  assertReadOnlyStatements(statements);
  return statements;
}

/**
 * Runs statements so that the server refuses any change to a table, whatever the guard let through:
 * before each statement the session default and the transaction are both READ ONLY (a DDL's implicit
 * commit leaves the session default in force, a `SET SESSION TRANSACTION READ WRITE` is undone before the
 * next statement), and the transaction is rolled back after it. Rows are streamed: once MAX_ROWS are kept
 * the session stops the statement on the server (and is closed), so later statements are not run.
 * Throws DatabaseError with the statement number and line for a refused one.
 */
export async function runInReadOnlyTransactions(session: SqlSession, statements: readonly SqlStatement[]): Promise<ReadOnlyResult> {
  const result: ReadOnlyResult = { sets: [], output: '', statements: statements.length, truncated: false };
  let left = MAX_ROWS;
  for (const [index, statement] of statements.entries()) {
    await session.query('SET SESSION TRANSACTION READ ONLY');
    await session.query('START TRANSACTION READ ONLY');
    try {
      const { sets, truncated } = await session.queryRows(statement.sql, left);
      for (const set of sets) left -= set.rows.length;
      result.sets.push(...sets);
      result.output += formatBatchOutput(sets);
      if (truncated) {
        result.truncated = true;
        break;
      }
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

/** run-custom-sql's run: readOnlyStatements, then runInReadOnlyTransactions. Throws InputError or DatabaseError. */
export async function runReadOnly(session: SqlSession, sql: string): Promise<ReadOnlyResult> {
  return runInReadOnlyTransactions(session, readOnlyStatements(sql));
}
