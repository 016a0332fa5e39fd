import { createConnection, type Connection, type FieldPacket } from 'mysql2/promise';
import { DatabaseError, DatabaseUnavailableError } from '../errors.js';

/** Where and as whom to connect; `database` is the default schema (`-D` of the mysql client). */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string | undefined;
}

/** One result set, every value as the text the server sent (NULL as null), like the mysql client prints it. */
export interface SqlResultSet {
  columns: string[];
  rows: (string | null)[][];
}

/** What one statement returned: its result sets (a CALL may return several), rows affected and warning count. */
export interface SqlResult {
  sets: SqlResultSet[];
  affectedRows: number;
  warnings: number;
  /**
   * The server's SERVER_STATUS_IN_TRANS flag after the statement (undefined when it sent no OK packet,
   * as for a plain SELECT): false after an implicit commit (DDL) in the middle of a transaction.
   */
  inTransaction?: boolean | undefined;
}

/** The few things the database operations need from a connection; fakes implement it in unit tests. */
export interface SqlSession {
  /** Runs one statement; `params` are escaped by the driver into `?` (values) and `??` (identifiers). */
  query(sql: string, params?: unknown[]): Promise<SqlResult>;
  close(): Promise<void>;
}

/** Opens a session; throws DatabaseUnavailableError (unreachable, timed out) or DatabaseError (refused). */
export type MysqlConnector = (target: MysqlTarget, signal?: AbortSignal) => Promise<SqlSession>;

const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

interface DriverError {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  message?: string;
}

/**
 * Translates a mysql2 error into a domain error with the server's code and message only (the driver's
 * error objects carry the SQL text, which may hold passwords), prefixed with `where` when given.
 */
export function toDatabaseError(error: unknown, where?: string): DatabaseError | DatabaseUnavailableError {
  if (error instanceof DatabaseError || error instanceof DatabaseUnavailableError) return error;
  const e = (error ?? {}) as DriverError;
  const prefix = where ? `${where}: ` : '';
  if (typeof e.sqlMessage === 'string' && typeof e.errno === 'number') {
    return new DatabaseError(`${prefix}ERROR ${e.errno} (${e.sqlState ?? 'HY000'}): ${e.sqlMessage}`, {
      errno: e.errno,
      sqlState: e.sqlState,
      serverCode: e.code,
    });
  }
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  if (UNAVAILABLE.has(code)) {
    const detail = code === 'PROTOCOL_SEQUENCE_TIMEOUT' ? 'timed out' : code === 'ETIMEDOUT' ? 'connect timed out' : code;
    return new DatabaseUnavailableError(`${prefix}${detail}`);
  }
  // A driver failure of its own (no server code): its message says what broke; secrets are masked by callers.
  const detail = typeof e.message === 'string' && e.message ? `${code}: ${e.message.slice(0, 200)}` : code;
  return new DatabaseError(`${prefix}${detail}`, { serverCode: code });
}

const text = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) {
    const utf8 = value.toString('utf8');
    // Binary columns print as 0x-hex (the mysql client's --binary-as-hex) rather than mangled text.
    return Buffer.from(utf8, 'utf8').equals(value) ? utf8 : '0x' + value.toString('hex').toUpperCase();
  }
  return String(value);
};

interface Header {
  affectedRows?: number;
  warningStatus?: number;
  serverStatus?: number;
}
const SERVER_STATUS_IN_TRANS = 0x0001;
const isHeader = (v: unknown): v is Header => !!v && typeof v === 'object' && !Array.isArray(v) && 'affectedRows' in v;

/** Shapes mysql2's `[rows, fields]` (one result, or several for a CALL) into SqlResult. */
export function shapeResult(rows: unknown, fields: FieldPacket[] | FieldPacket[][] | undefined): SqlResult {
  const result: SqlResult = { sets: [], affectedRows: 0, warnings: 0 };
  const add = (part: unknown, partFields: FieldPacket[] | undefined) => {
    if (isHeader(part)) {
      result.affectedRows += part.affectedRows ?? 0;
      result.warnings += part.warningStatus ?? 0;
      if (typeof part.serverStatus === 'number') result.inTransaction = (part.serverStatus & SERVER_STATUS_IN_TRANS) !== 0;
    } else if (Array.isArray(part)) {
      result.sets.push({
        columns: (partFields ?? []).map((f) => f.name),
        rows: part.map((row) => (row as unknown[]).map(text)),
      });
    }
  };
  // A single result has one FieldPacket list; a CALL has one list (or undefined, for its OK part) per part.
  const multi = Array.isArray(fields) && fields.length > 0 && (Array.isArray(fields[0]) || fields[0] === undefined);
  if (multi && Array.isArray(rows)) {
    rows.forEach((part, i) => add(part, (fields as (FieldPacket[] | undefined)[])[i]));
  } else {
    add(rows, fields as FieldPacket[] | undefined);
  }
  return result;
}

/**
 * A connector over mysql2: one connection per call, no multi-statements, no LOCAL INFILE, every value
 * as text. A statement past `queryTimeoutMs` (or an aborted signal) kills the server thread, so a long
 * ALTER does not keep running after we gave up on it.
 */
export function mysqlConnector(options: { connectTimeoutMs: number; queryTimeoutMs: number }): MysqlConnector {
  return async (target, signal) => {
    const where = `${target.host}:${target.port}`;
    let connection: Connection;
    try {
      connection = await createConnection({
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password,
        ...(target.database ? { database: target.database } : {}),
        connectTimeout: options.connectTimeoutMs,
        charset: 'utf8mb4',
        multipleStatements: false,
        typeCast: false,
        rowsAsArray: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
      });
    } catch (error) {
      throw toDatabaseError(error, where);
    }
    // A fatal socket error after connect is reported through the pending query; without a listener
    // the emitter would crash the process.
    connection.on('error', () => undefined);
    const threadId = connection.threadId;
    let killed = false;
    const kill = async () => {
      if (killed) return;
      killed = true;
      connection.destroy();
      // The server keeps executing a statement whose client went away; stop it from a second connection.
      try {
        const killer = await createConnection({
          host: target.host,
          port: target.port,
          user: target.user,
          password: target.password,
          connectTimeout: options.connectTimeoutMs,
        });
        try {
          await killer.query({ sql: `KILL ${Number(threadId)}`, timeout: options.connectTimeoutMs });
        } finally {
          killer.destroy();
        }
      } catch {
        // Best effort: the thread may already be gone.
      }
    };
    const onAbort = () => void kill();
    signal?.addEventListener('abort', onAbort, { once: true });

    return {
      async query(sql, params) {
        if (signal?.aborted || killed) throw new DatabaseUnavailableError('connection closed (aborted or timed out)');
        try {
          const [rows, fields] = await connection.query({ sql, values: params, timeout: options.queryTimeoutMs });
          return shapeResult(rows, fields as FieldPacket[] | FieldPacket[][] | undefined);
        } catch (error) {
          const translated = toDatabaseError(error);
          if (translated instanceof DatabaseUnavailableError) await kill();
          throw translated;
        }
      },
      async close() {
        signal?.removeEventListener('abort', onAbort);
        if (killed) return;
        killed = true;
        try {
          await connection.end();
        } catch {
          connection.destroy();
        }
      },
    };
  };
}
