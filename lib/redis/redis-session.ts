import { isIP } from 'node:net';
import { ConnectionTimeoutError, createClient, ErrorReply, SocketClosedUnexpectedlyError, TimeoutError } from '@redis/client';
import { DatabaseError, DatabaseUnavailableError } from '../errors.js';
import type { DbTls } from '../tls/db-tls.js';
import { describeTlsFailure } from '../tls/tls-failure.js';

/** Where and as whom to connect; no `username` means Redis's `default` user (requirepass). */
export interface RedisTarget {
  host: string;
  port: number;
  username?: string | undefined;
  password: string;
}

/** The one thing the redis-user operations need; fakes implement it in unit tests. */
export interface RedisSession {
  /** Sends one command as an argument array (never a string to be parsed). */
  command(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Opens a session; throws DatabaseUnavailableError (unreachable, timed out) or DatabaseError (refused, e.g. WRONGPASS). */
export type RedisConnector = (target: RedisTarget, signal?: AbortSignal) => Promise<RedisSession>;

/**
 * Translates a node-redis error: a server reply (`ERR ...`, `WRONGPASS ...`) is a DatabaseError with its
 * first word as the code; anything else (refused, reset, timed out) is DatabaseUnavailableError.
 */
export function toRedisError(error: unknown, where?: string): DatabaseError | DatabaseUnavailableError {
  if (error instanceof DatabaseError || error instanceof DatabaseUnavailableError) return error;
  const prefix = where ? `${where}: ` : '';
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ErrorReply) {
    return new DatabaseError(prefix + message, { serverCode: message.split(' ')[0] });
  }
  // Not transient: retrying cannot fix a certificate, so a DatabaseError rather than unavailable.
  const tls = describeTlsFailure(error, 'REDIS_TLS_CA_FILE');
  if (tls) {
    const code = (error as { code?: unknown } | null)?.code;
    return new DatabaseError(prefix + tls, typeof code === 'string' ? { serverCode: code } : {});
  }
  if (error instanceof ConnectionTimeoutError) return new DatabaseUnavailableError(prefix + 'connect timed out');
  if (error instanceof TimeoutError) return new DatabaseUnavailableError(prefix + 'command timed out');
  if (error instanceof SocketClosedUnexpectedlyError) {
    return new DatabaseUnavailableError(prefix + 'connection closed unexpectedly (unreachable, or timed out)');
  }
  const code = (error as { code?: unknown } | null)?.code;
  return new DatabaseUnavailableError(prefix + (typeof code === 'string' ? code : message));
}

/** The server reset or closed the socket while node-redis was sending its first commands (HELLO/AUTH). */
const isDroppedAtConnect = (error: unknown): boolean =>
  error instanceof SocketClosedUnexpectedlyError || (error as { code?: unknown } | null)?.code === 'ECONNRESET';

/**
 * node-redis's socket options for TLS: the certificate verified against `tls.ca` and Node's check of the
 * host name (or, for an IP address, of the certificate's IP SANs); SNI only for a name, as TLS wants.
 */
export function redisTlsSocket(tls: DbTls, host: string) {
  return {
    tls: true as const,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2' as const,
    ...(isIP(host) ? {} : { servername: host }),
  };
}

/**
 * A connector over node-redis: one connection per call, no reconnects, connect and command timeouts, TLS
 * when `tls` is given (the item's port must then be the server's TLS port).
 */
export function redisConnector(options: { connectTimeoutMs: number; commandTimeoutMs: number; tls?: DbTls | undefined }): RedisConnector {
  return async (target, signal) => {
    const where = `${target.host}:${target.port}`;
    const client = createClient({
      socket: {
        host: target.host,
        port: target.port,
        connectTimeout: options.connectTimeoutMs,
        reconnectStrategy: false,
        ...(options.tls ? redisTlsSocket(options.tls, target.host) : {}),
      },
      ...(target.username ? { username: target.username } : {}),
      password: target.password,
      disableOfflineQueue: true,
    });
    // node-redis reports socket errors as events as well as rejections; an unheard event would crash.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      client.destroy();
      // A plain port never answers a TLS ClientHello (Redis waits for the end of an inline command).
      if (options.tls && error instanceof ConnectionTimeoutError) {
        throw new DatabaseUnavailableError(`${where}: TLS connect timed out (REDIS_TLS=required: is ${target.port} the server's TLS port?)`);
      }
      // A TLS port drops a plain client at its first command (Redis logs "wrong version number"), which
      // node-redis reports only as a reset or a closed socket: name the likely cause.
      if (!options.tls && isDroppedAtConnect(error)) {
        throw new DatabaseUnavailableError(
          `${where}: connection dropped by the server before any reply (REDIS_TLS is off: if ${target.port} is the server's TLS port, set REDIS_TLS=required)`,
        );
      }
      throw toRedisError(error, where);
    }
    return {
      async command(args) {
        try {
          return await client.sendCommand(args, {
            timeout: options.commandTimeoutMs,
            ...(signal ? { abortSignal: signal } : {}),
          });
        } catch (error) {
          throw toRedisError(error);
        }
      },
      async close() {
        try {
          await client.close();
        } catch {
          client.destroy();
        }
      },
    };
  };
}

/** Opens a session, runs `fn` with it and always closes it. */
export async function withRedis<T>(
  connect: RedisConnector,
  target: RedisTarget,
  signal: AbortSignal | undefined,
  fn: (session: RedisSession) => Promise<T>,
): Promise<T> {
  const session = await connect(target, signal);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
