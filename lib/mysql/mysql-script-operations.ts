import { z } from 'zod';
import { resolveSeed } from '../crypto/cipher-a.js';
import { openSecret } from '../crypto/secret-fields.js';
import { DatabaseError, DatabaseUnavailableError } from '../errors.js';
import { EMPTY, looseString } from '../input/fields.js';
import { defineOperation, eachItem, eachOutcome, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { splitList } from '../text/split-list.js';
import { adminConnectionFields, scrubbed, type MysqlDeps } from './admin-session.js';
import { optionalDatabaseNameField } from './mysql-database-operations.js';
import type { MysqlTarget, SqlResultSet } from './mysql-session.js';
import { readOnlyStatements, runInReadOnlyTransactions } from './run-read-only.js';
import { runSqlFiles, type FileReport, type ScriptRun, type SqlFile } from './run-sql-files.js';

/** Fetches the scripts named by `endpoint` (and `sql_files` for an archive), in run order. */
export type SqlFileLoader = (endpoints: string[], sqlFiles: string[], signal: AbortSignal) => Promise<SqlFile[]>;

export interface MysqlScriptDeps extends MysqlDeps {
  loadSqlFiles: SqlFileLoader;
}

const flag = () => looseString().transform((v) => v !== undefined && /^(y|yes|true|1|on)$/i.test(v.trim()));

const scriptInput = z.object({
  ...adminConnectionFields,
  databaseName: optionalDatabaseNameField(),
  endpoint: looseString().transform((v) => splitList(v)),
  sql_files: looseString().transform((v) => splitList(v)),
  sql: looseString(),
  transaction: flag(),
});
type ScriptItem = z.output<typeof scriptInput>;

const fileReport = z.object({
  file: z.string(),
  status: z.enum(['applied', 'failed']),
  total: z.number(),
  statements: z.number(),
  committed: z.number(),
  rowsAffected: z.number(),
  warnings: z.number(),
  warningMessages: z.array(z.object({ statement: z.number(), line: z.number(), level: z.string(), code: z.number(), message: z.string() })),
  error: z
    .object({
      statement: z.number(),
      line: z.number(),
      message: z.string(),
      errno: z.number().optional(),
      sqlState: z.string().optional(),
      serverCode: z.string().optional(),
    })
    .optional(),
});

const queryOutput = z.object({
  detail: z.string().describe('Result sets as the mysql client prints them in batch mode: `sql_0_output:<tab-separated text>  `'),
  columns: z.array(z.string()).describe('Columns of the last result set'),
  rows: z.array(z.record(z.string(), z.string().nullable())).describe('Rows of the last result set, values as text'),
  truncated: z.boolean(),
});
type QueryOutput = z.infer<typeof queryOutput>;

const scriptOutput = z.object({
  detail: z.string().describe('`sql_<i>_output:<output>  ` per file run, as upstream'),
  files: z.array(fileReport),
});
type ScriptOutput = z.infer<typeof scriptOutput>;

function target(deps: MysqlDeps, item: ScriptItem, ctx: RunContext): MysqlTarget {
  const seed = resolveSeed(item.seed, deps.config.encryptSeed);
  const password = openSecret(item.guid, seed, item.password, ctx.logger.redactor);
  return { host: item.host, port: item.port, user: item.userName, password, database: item.databaseName };
}

const label = (item: ScriptItem) => `${item.host}_${item.databaseName ?? ''}`;

function toRows(set: SqlResultSet | undefined): Record<string, string | null>[] {
  if (!set) return [];
  return set.rows.map((row) => Object.fromEntries(set.columns.map((c, i) => [c, row[i] ?? null])));
}

/** The read-only query of run-custom-sql (and of run with `sql`, as upstream). */
async function runQuery(deps: MysqlDeps, item: ScriptItem, ctx: RunContext): Promise<QueryOutput> {
  const where = `Failed to run script custom sql to ${label(item)}: `;
  // Judged before connecting: a refused statement never reaches the server.
  const statements = readOnlyStatements(item.sql ?? '');
  const session = await deps.connect(target(deps, item, ctx), ctx.signal).catch((error: unknown) => {
    throw error instanceof DatabaseError || error instanceof DatabaseUnavailableError
      ? scrubbed(error, ctx.logger.redactor, 'Failed to connect to mysql: ')
      : error;
  });
  try {
    const result = await runInReadOnlyTransactions(session, statements);
    const last = [...result.sets].reverse().find((s) => s.columns.length > 0);
    return {
      detail: `sql_0_output:${result.output}  `,
      columns: last?.columns ?? [],
      rows: toRows(last),
      truncated: result.truncated,
    };
  } catch (error) {
    if (error instanceof DatabaseError || error instanceof DatabaseUnavailableError) {
      throw scrubbed(error, ctx.logger.redactor, where);
    }
    throw error;
  } finally {
    await session.close();
  }
}

/** `a.sql (4 statements)`, `b.sql statements 1-2 (rolled back)`, ... : what a failed run left behind. */
export function describeApplied(run: ScriptRun, transaction: boolean): string {
  const parts = run.files.flatMap((f) => {
    if (f.status === 'applied') return [`${f.file} (${f.statements} statement${f.statements === 1 ? '' : 's'})`];
    if (f.statements === 0) return [];
    const range = f.statements === 1 ? 'statement 1' : `statements 1-${f.statements}`;
    if (!transaction) return [`${f.file} ${range}`];
    if (f.committed === 0) return [`${f.file} ${range} (rolled back)`];
    if (f.committed === f.statements) return [`${f.file} ${range} (committed: DDL auto-commits)`];
    return [`${f.file} ${range} (1-${f.committed} committed by DDL, the rest rolled back)`];
  });
  const applied = parts.length ? `Applied before the failure: ${parts.join(', ')}.` : 'Nothing was applied.';
  return run.notRun.length ? `${applied} Not run: ${run.notRun.join(', ')}.` : applied;
}

const publicReport = ({ output: _output, ...report }: FileReport) => report;

/** Runs the files, and shapes a failure into upstream's message with the file, statement, line and server error. */
async function runScripts(deps: MysqlScriptDeps, item: ScriptItem, ctx: RunContext): Promise<ItemOutcome<ScriptOutput>> {
  const connection = target(deps, item, ctx);
  const files = await deps.loadSqlFiles(item.endpoint, item.sql_files, ctx.signal);
  const open = () => deps.connect(connection, ctx.signal);
  const run = await runSqlFiles(open, files, { transaction: item.transaction });
  const output: ScriptOutput = {
    detail: run.files
      .filter((f) => f.status === 'applied')
      .map((f, i) => `sql_${i}_output:${f.output}  `)
      .join(''),
    files: run.files.map(publicReport),
  };
  if (!run.failed) {
    ctx.logger.info('mysql scripts applied', { files: run.files.map((f) => f.file), transaction: item.transaction });
    return { ok: true, output };
  }
  const { file, failure, error } = run.failed;
  const at = failure.statement === 0 ? 'connecting' : `statement ${failure.statement} (line ${failure.line})`;
  const message = `Failed to run script ${file} to ${label(item)}: ${at}: ${error.message}. ${describeApplied(run, item.transaction)}`;
  const translated =
    error instanceof DatabaseError ? new DatabaseError(message, error, { cause: error }) : new DatabaseUnavailableError(message, { cause: error });
  return { ok: false, error: scrubbed(translated, ctx.logger.redactor, ''), output };
}

/**
 * mysql-script/run: runs .sql files from S3 (or an archive plus `sql_files`) with mysql2, each file in
 * its own session, optionally in a transaction; with `sql` instead of `endpoint` it is run-custom-sql.
 */
export const mysqlScriptRun = (deps: MysqlScriptDeps) =>
  defineOperation({
    plugin: 'mysql-script',
    action: 'run',
    summary: 'Run .sql files from S3 (or an archive + sql_files globs) on MySQL/MariaDB; per-file report, optional transaction',
    input: scriptInput.superRefine((item, zctx) => {
      if (item.endpoint.length === 0 && !item.sql?.trim()) {
        // Reported as upstream's `Parameter endpoint or sql can not empty.`
        zctx.addIssue({ code: 'custom', path: ['endpoint or sql'], message: EMPTY });
      }
    }),
    output: z.union([scriptOutput, queryOutput]),
    run: eachOutcome(async (item: ScriptItem, ctx): Promise<ItemOutcome<ScriptOutput | QueryOutput>> => {
      if (item.sql?.trim()) return { ok: true, output: await runQuery(deps, item, ctx) };
      return runScripts(deps, item, ctx);
    }),
  });

/**
 * mysql-script/run-custom-sql: read-only queries only (SELECT, SHOW, DESCRIBE, EXPLAIN, WITH, judged by
 * read-only-statement.ts), run in a read-only transaction; rows (at most MAX_ROWS, streamed) and upstream's tab-separated detail.
 */
export const mysqlScriptRunCustomSql = (deps: MysqlDeps) =>
  defineOperation({
    plugin: 'mysql-script',
    action: 'run-custom-sql',
    summary: 'Run a read-only query (refused by the server if it writes); rows plus the tab-separated detail',
    input: scriptInput.superRefine((item, zctx) => {
      if (!item.sql?.trim()) zctx.addIssue({ code: 'custom', path: ['sql'], message: EMPTY });
    }),
    output: queryOutput,
    run: eachItem(async (item: ScriptItem, ctx) => runQuery(deps, item, ctx)),
  });
