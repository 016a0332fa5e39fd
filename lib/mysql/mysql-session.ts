import type { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { createConnection, type Connection, type ConnectionOptions, type FieldPacket, type SslOptions } from 'mysql2/promise';
import { DatabaseError, DatabaseUnavailableError } from '../errors.js';
import type { DbTls } from '../tls/db-tls.js';
import { describeTlsFailure } from '../tls/tls-failure.js';

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

/** What a streamed statement kept: at most the rows asked for, `truncated` when the server had more. */
export interface SqlRows {
  sets: SqlResultSet[];
  truncated: boolean;
}

/** The few things the database operations need from a connection; fakes implement it in unit tests. */
export interface SqlSession {
  /** Runs one statement; `params` are escaped by the driver into `?` (values) and `??` (identifiers). */
  query(sql: string, params?: unknown[]): Promise<SqlResult>;
  /**
   * Runs one statement reading its rows as they arrive and keeping at most `maxRows`; at the next row the
   * statement is stopped on the server and the session closed (`truncated`). Throws like `query`.
   */
  queryRows(sql: string, maxRows: number): Promise<SqlRows>;
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
  // Not transient: retrying cannot fix a certificate, so a DatabaseError rather than unavailable.
  const tls = describeTlsFailure(error, 'MYSQL_TLS_CA_FILE');
  if (tls) return new DatabaseError(`${prefix}${tls}`, { serverCode: e.code });
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
 * mysql2's TLS options for `tls`: the certificate verified, and its name too (mysql2 checks the host
 * name only with `verifyIdentity`; for an IP address Node checks the certificate's IP SANs).
 */
export function mysqlSsl(tls: DbTls): SslOptions {
  return { ...(tls.ca !== undefined ? { ca: tls.ca } : {}), rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' };
}

/**
 * mysql2's connection options for TLS to `host`. mysql2 sends no server name for an IP address, so Node
 * checks the certificate against the socket's `_host`, which net leaves null for an IP: the check would be
 * against `localhost` (any certificate naming localhost passes, a right one with only the IP SAN fails).
 * The socket is opened here with `_host` set to the address, so that Node checks the IP SANs, during the
 * handshake, before the password is sent.
 */
function tlsOptions(ssl: SslOptions, host: string, port: number): ConnectionOptions {
  return {
    ssl,
    stream: () => {
      const socket: Socket & { _host?: string | null } = netConnect({ host, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      socket._host = host;
      return socket;
    },
  };
}

/** The callback connection under mysql2's promise wrapper (not in its typings): streamed query, pause, socket. */
interface CallbackConnection {
  query(options: { sql: string }): EventEmitter;
  pause(): void;
  stream?: { destroy?: () => void };
}

/**
 * A connector over mysql2: one connection per call, no multi-statements, no LOCAL INFILE, every value
 * as text, TLS when `tls` is given (the KILL connection too). A statement past `queryTimeoutMs` (or an
 * aborted signal) kills the server thread, so a long ALTER does not keep running after we gave up on it.
 */
export function mysqlConnector(options: { connectTimeoutMs: number; queryTimeoutMs: number; tls?: DbTls | undefined }): MysqlConnector {
  // One object per connector: mysql2 keys its TLS session cache on it.
  const ssl = options.tls ? mysqlSsl(options.tls) : undefined;
  return async (target, signal) => {
    const tls = () => (ssl ? tlsOptions(ssl, target.host, target.port) : {});
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
        ...tls(),
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
          ...tls(),
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
    // mysql2's destroy() only half-closes the socket and goes on parsing what the server still sends.
    const underlying = (connection as unknown as { connection: CallbackConnection }).connection;
    const stopReading = async () => {
      underlying.pause();
      await kill();
      underlying.stream?.destroy?.();
    };

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
      queryRows(sql, maxRows) {
        if (signal?.aborted || killed) return Promise.reject(new DatabaseUnavailableError('connection closed (aborted or timed out)'));
        return new Promise<SqlRows>((resolve, reject) => {
          const sets: SqlResultSet[] = [];
          let current: SqlResultSet | undefined;
          let kept = 0;
          let settled = false;
          // Our own timer rather than mysql2's `timeout`, which cannot be cleared once we stop reading.
          const timer = setTimeout(() => fail(new DatabaseUnavailableError('timed out')), options.queryTimeoutMs);
          const finish = (outcome: () => void) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            outcome();
          };
          const fail = (error: DatabaseError | DatabaseUnavailableError) =>
            finish(() => {
              if (error instanceof DatabaseUnavailableError) void kill().finally(() => reject(error));
              else reject(error);
            });
          const query = underlying.query({ sql });
          query.on('fields', (fields?: FieldPacket[]) => {
            if (settled || !fields) return;
            current = { columns: fields.map((f) => f.name), rows: [] };
            sets.push(current);
          });
          query.on('result', (row: unknown) => {
            if (settled || isHeader(row) || !current) return;
            if (kept < maxRows) {
              current.rows.push((row as unknown[]).map(text));
              kept += 1;
              return;
            }
            // One row past the cap: stop the statement and the reading now, so neither side goes on.
            finish(() => void stopReading().finally(() => resolve({ sets, truncated: true })));
          });
          query.on('error', (error: unknown) => fail(toDatabaseError(error)));
          query.on('end', () => finish(() => resolve({ sets, truncated: false })));
        });
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
