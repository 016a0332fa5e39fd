import { z } from 'zod';
import type { Config } from '../config.js';
import { resolveSeed } from '../crypto/cipher-a.js';
import { openSecret } from '../crypto/secret-fields.js';
import { DatabaseError, DatabaseUnavailableError } from '../errors.js';
import type { Redactor } from '../log/redactor.js';
import { looseString, requiredString, safeToken } from '../input/fields.js';
import type { RunContext } from '../outcome.js';
import { hostField, portField } from '../input/server-fields.js';
import { backslashEscapesOn, type Statement } from './admin-statements.js';
import type { MysqlConnector, SqlResult, SqlSession } from './mysql-session.js';

/** The admin connection fields, in upstream's validation order (host, guid, userName, password). */
export const adminConnectionFields = {
  host: hostField(),
  guid: requiredString(),
  userName: safeToken('userName'),
  password: requiredString(),
  port: portField(3306),
  seed: looseString(),
  callbackParameter: looseString(),
};

const adminItem = z.object(adminConnectionFields);
export type AdminItem = z.output<typeof adminItem>;

/** What the operations share: the config (for ENCRYPT_SEED) and how to open a connection. */
export interface MysqlDeps {
  config: Config;
  connect: MysqlConnector;
}

/** Runs account statements; failures name the statement template (never its values) and are scrubbed of secrets. */
export interface AdminSession {
  exec(statement: Statement): Promise<SqlResult>;
}

/** A database error's message with every registered secret masked (a syntax error quotes the SQL near it). */
export function scrubbed(error: DatabaseError | DatabaseUnavailableError, redactor: Redactor, prefix: string) {
  const message = prefix + (redactor.redact(error.message) as string);
  return error instanceof DatabaseError ? new DatabaseError(message, error, { cause: error }) : new DatabaseUnavailableError(message, { cause: error });
}

/**
 * Decrypts the admin password, connects as the admin, makes `\` an escape character for the driver's
 * escaping, runs `fn`, and always closes the connection. `fn` gets the resolved seed for the passwords
 * it must decrypt or hand back.
 */
export async function withAdminSession<T>(
  deps: MysqlDeps,
  item: AdminItem,
  ctx: RunContext,
  fn: (admin: AdminSession, seed: string) => Promise<T>,
): Promise<T> {
  const redactor = ctx.logger.redactor;
  const seed = resolveSeed(item.seed, deps.config.encryptSeed);
  const password = openSecret(item.guid, seed, item.password, redactor);
  let session: SqlSession;
  try {
    session = await deps.connect({ host: item.host, port: item.port, user: item.userName, password }, ctx.signal);
  } catch (error) {
    if (error instanceof DatabaseError || error instanceof DatabaseUnavailableError) {
      throw scrubbed(error, redactor, 'Failed to connect to mysql: ');
    }
    throw error;
  }
  const admin: AdminSession = {
    async exec(statement) {
      try {
        return await session.query(statement.sql, statement.params);
      } catch (error) {
        if (error instanceof DatabaseError || error instanceof DatabaseUnavailableError) {
          throw scrubbed(error, redactor, `Failed to run command ${statement.sql} to mysql: `);
        }
        throw error;
      }
    },
  };
  try {
    await admin.exec(backslashEscapesOn);
    return await fn(admin, seed);
  } finally {
    await session.close();
  }
}
