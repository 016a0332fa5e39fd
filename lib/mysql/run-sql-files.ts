import { DatabaseError, DatabaseUnavailableError, InputError } from '../errors.js';
import { formatBatchOutput } from './format-batch-output.js';
import type { SqlSession } from './mysql-session.js';
import { splitSql, type SqlStatement } from './split-sql.js';

/** One script: its name as the caller knows it (archive entry or URL file name) and its text. */
export interface SqlFile {
  name: string;
  text: string;
}

export interface StatementWarning {
  statement: number;
  line: number;
  level: string;
  code: number;
  message: string;
}

/**
 * Where and why a file stopped: the 1-based statement number and its first line (0 when the session
 * could not be opened or set up), and the server's answer.
 */
export interface StatementFailure {
  statement: number;
  line: number;
  message: string;
  errno?: number | undefined;
  sqlState?: string | undefined;
  serverCode?: string | undefined;
}

/** What one file did. `committed` counts the statements whose effects stay (all of them, unless it failed in a transaction). */
export interface FileReport {
  file: string;
  status: 'applied' | 'failed';
  /** Statements in the file. */
  total: number;
  /** Statements that ran without error. */
  statements: number;
  committed: number;
  rowsAffected: number;
  warnings: number;
  /** The first warnings (SHOW WARNINGS), for the operator. */
  warningMessages: StatementWarning[];
  /** Result sets printed as the mysql client's batch mode prints them. */
  output: string;
  error?: StatementFailure;
}

export interface ScriptRun {
  files: FileReport[];
  /** Files after a failure, which were not run. */
  notRun: string[];
  failed?: { file: string; error: DatabaseError | DatabaseUnavailableError; failure: StatementFailure };
}

const MAX_WARNINGS_PER_FILE = 20;

/** Splits every file first, so that a bad DELIMITER line anywhere is reported before anything runs. */
function splitAll(files: SqlFile[]): { file: SqlFile; statements: SqlStatement[] }[] {
  return files.map((file) => {
    try {
      return { file, statements: splitSql(file.text) };
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`File ${file.name}: ${error.message}`);
      throw error;
    }
  });
}

async function collectWarnings(session: SqlSession, statement: number, line: number, into: StatementWarning[]) {
  if (into.length >= MAX_WARNINGS_PER_FILE) return;
  try {
    const { sets } = await session.query('SHOW WARNINGS');
    for (const [level, code, message] of sets[0]?.rows ?? []) {
      if (into.length >= MAX_WARNINGS_PER_FILE) break;
      into.push({ statement, line, level: level ?? '', code: Number(code), message: message ?? '' });
    }
  } catch {
    // The count is already in the report; the texts are a courtesy.
  }
}

async function runFile(
  open: () => Promise<SqlSession>,
  name: string,
  statements: SqlStatement[],
  transaction: boolean,
): Promise<{ report: FileReport; error?: DatabaseError | DatabaseUnavailableError }> {
  const report: FileReport = {
    file: name,
    status: 'applied',
    total: statements.length,
    statements: 0,
    committed: 0,
    rowsAffected: 0,
    warnings: 0,
    warningMessages: [],
    output: '',
  };
  // Each file gets its own session, as each upstream `mysql` run did: a `USE` or a session variable in
  // one file does not leak into the next.
  let inTransaction = false;
  let current: SqlStatement | undefined;
  let session: SqlSession | undefined;
  try {
    session = await open();
    if (transaction) {
      // autocommit off: after a DDL's implicit commit the next DML opens a new transaction by itself.
      await session.query('SET autocommit = 0');
      await session.query('START TRANSACTION');
      inTransaction = true;
    }
    for (const [index, statement] of statements.entries()) {
      current = statement;
      const result = await session.query(statement.sql);
      report.statements = index + 1;
      report.rowsAffected += result.affectedRows;
      report.warnings += result.warnings;
      report.output += formatBatchOutput(result.sets);
      if (result.inTransaction !== undefined) inTransaction = result.inTransaction;
      if (!inTransaction) report.committed = index + 1;
      if (result.warnings > 0) await collectWarnings(session, index + 1, statement.line, report.warningMessages);
    }
    current = undefined;
    if (transaction) {
      await session.query('COMMIT');
      report.committed = report.statements;
    }
    return { report };
  } catch (caught) {
    const error =
      caught instanceof DatabaseError || caught instanceof DatabaseUnavailableError
        ? caught
        : new DatabaseError(`unexpected failure: ${(caught as Error)?.message ?? String(caught)}`);
    report.status = 'failed';
    report.error = {
      statement: current ? report.statements + 1 : report.statements,
      line: current?.line ?? 0,
      message: error.message,
      ...(error instanceof DatabaseError && { errno: error.errno, sqlState: error.sqlState, serverCode: error.serverCode }),
    };
    if (inTransaction && session) {
      try {
        await session.query('ROLLBACK');
      } catch {
        // Closing the session rolls back as well.
      }
    }
    return { report, error };
  } finally {
    await session?.close();
  }
}

/**
 * Runs SQL files in order, one session each, and stops at the first failing statement. With
 * `transaction`, each file runs in a transaction that is rolled back on failure; DDL commits implicitly
 * on MySQL and MariaDB, so only what follows the last DDL is rolled back (`committed` says how much stays).
 * Throws InputError for a file that cannot be split; statement and connection failures are in `failed`.
 */
export async function runSqlFiles(open: () => Promise<SqlSession>, files: SqlFile[], options: { transaction: boolean }): Promise<ScriptRun> {
  const planned = splitAll(files);
  const run: ScriptRun = { files: [], notRun: [] };
  for (const [index, { file, statements }] of planned.entries()) {
    const { report, error } = await runFile(open, file.name, statements, options.transaction);
    run.files.push(report);
    if (error) {
      run.failed = { file: file.name, error, failure: report.error! };
      run.notRun = planned.slice(index + 1).map((p) => p.file.name);
      break;
    }
  }
  return run;
}
