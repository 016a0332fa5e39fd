import { z } from 'zod';
import { randomPassword } from '../crypto/random-password.js';
import { openSecret, sealSecret } from '../crypto/secret-fields.js';
import { DatabaseError, InputError, PluginError } from '../errors.js';
import { looseString, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { adminConnectionFields, withAdminSession, type AdminSession, type MysqlDeps } from './admin-session.js';
import {
  createDatabase,
  createUser,
  databaseNameProblem,
  dropDatabase,
  dropUser,
  findAccount,
  findDatabaseGrants,
  findSchema,
  grantableDatabaseNameProblem,
  grantOnDatabase,
  revokeOnDatabase,
  userNameProblem,
} from './admin-statements.js';
import { systemSchemaProblem } from './system-names.js';

const checked = (problemOf: (name: string) => string | undefined) => (v: string | undefined, ctx: z.RefinementCtx) => {
  const problem = v === undefined ? undefined : problemOf(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

/** A database name that is created literally (escaped) or refused with the reason. */
export const databaseNameField = (problemOf = databaseNameProblem) => requiredString().superRefine(checked(problemOf));

/** An optional database name: absent or empty is undefined. */
export const optionalDatabaseNameField = (problemOf = databaseNameProblem) =>
  looseString()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v))
    .superRefine(checked(problemOf));

/** An account name that is created literally (escaped) or refused with the reason. */
export const accountNameField = () => requiredString().superRefine(checked(userNameProblem));

/** True if the schema exists (information_schema compares case-insensitively; names are case-sensitive). */
export async function schemaExists(admin: AdminSession, database: string): Promise<boolean> {
  const { sets } = await admin.exec(findSchema(database));
  return (sets[0]?.rows ?? []).some(([name]) => name === database);
}

/** True if the account `user`@`%` exists. */
export async function accountExists(admin: AdminSession, user: string): Promise<boolean> {
  const { sets } = await admin.exec(findAccount(user));
  return (sets[0]?.rows.length ?? 0) > 0;
}

/** Runs compensating statements after a failure, keeping the original error. */
async function undo(steps: (() => Promise<unknown>)[]): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failed.push(error instanceof PluginError ? error.message : 'unexpected error');
    }
  }
  return failed;
}

const wrap = (prefix: string, error: unknown): unknown =>
  error instanceof DatabaseError ? new DatabaseError(prefix + error.message, error, { cause: error }) : error;

/** mysql-database/add: a schema and, unless it exists, its owner account (password given or generated), granted ALL on it. */
export const mysqlDatabaseAdd = (deps: MysqlDeps) =>
  defineOperation({
    plugin: 'mysql-database',
    action: 'add',
    summary: 'Create a database and its owner account (generated password returned {cipher_a}-encrypted), granted ALL on it',
    input: z.object({
      ...adminConnectionFields,
      databaseName: databaseNameField(grantableDatabaseNameProblem),
      databaseOwnerName: accountNameField(),
      databaseOwnerGuid: requiredString(),
      databaseOwnerPassword: looseString(),
    }),
    output: z.object({ databaseOwnerGuid: z.string(), databaseOwnerPassword: z.string().optional() }),
    run: eachItem(
      async (item, ctx) =>
        withAdminSession(deps, item, ctx, async (admin, seed) => {
          const prefix = 'Failed to add mysql database and user: ';
          const db = item.databaseName;
          const owner = item.databaseOwnerName;
          const given = item.databaseOwnerPassword ? openSecret(item.databaseOwnerGuid, seed, item.databaseOwnerPassword, ctx.logger.redactor) : undefined;
          if (await schemaExists(admin, db)) throw new DatabaseError(`${prefix}database ${db} already exists`, { errno: 1007 });
          const ownerExists = await accountExists(admin, owner);
          let created: { password: string; sealed: string } | undefined;
          if (!ownerExists) {
            const password = given ?? randomPassword();
            ctx.logger.redactor.register(password);
            // Sealed before any change: without a seed nothing is created rather than a password lost.
            created = { password, sealed: sealSecret(item.databaseOwnerGuid, seed, password) };
          }
          try {
            await admin.exec(createDatabase(db));
          } catch (error) {
            if (error instanceof DatabaseError && error.errno === 1007) {
              throw new DatabaseError(`${prefix}database ${db} already exists`, error, { cause: error });
            }
            throw wrap(prefix, error);
          }
          const compensations = [() => admin.exec(dropDatabase(db))];
          try {
            if (created) {
              await admin.exec(createUser(owner, created.password));
              compensations.unshift(() => admin.exec(dropUser(owner)));
            }
            await admin.exec(grantOnDatabase(db, owner));
          } catch (error) {
            const leftovers = await undo(compensations);
            const note = leftovers.length ? ` (undo failed: ${leftovers.join('; ')})` : ' (database removed again)';
            throw wrap(prefix, error instanceof DatabaseError ? new DatabaseError(error.message + note, error) : error);
          }
          ctx.logger.info('mysql database added', { database: db, owner, ownerCreated: !ownerExists });
          return { databaseOwnerGuid: item.databaseOwnerGuid, ...(created && { databaseOwnerPassword: created.sealed }) };
        }),
      { sequential: true },
    ),
  });

/**
 * mysql-database/delete: revokes the database-level grants on it and drops it; a missing database is
 * reported, not an error. The server's own schemas (mysql, sys, ...) are refused before connecting.
 */
export const mysqlDatabaseDelete = (deps: MysqlDeps) =>
  defineOperation({
    plugin: 'mysql-database',
    action: 'delete',
    summary: 'Revoke the grants on a database and drop it (accounts are kept); a missing database is reported in detail',
    input: z.object({
      ...adminConnectionFields,
      databaseName: databaseNameField(),
      databaseOwnerGuid: requiredString(),
    }),
    output: z.object({ databaseOwnerGuid: z.string(), detail: z.string() }),
    run: eachItem(
      async (item, ctx) => {
        const system = systemSchemaProblem(item.databaseName);
        if (system) throw new InputError(`Parameter databaseName validation failed: ${system} (on ${item.host}:${item.port})`);
        return withAdminSession(deps, item, ctx, async (admin) => {
          const prefix = 'Failed to delete mysql database and user: ';
          const db = item.databaseName;
          try {
            const { sets } = await admin.exec(findDatabaseGrants(db));
            const grants = sets[0]?.rows ?? [];
            for (const [user, host, storedDb] of grants) await admin.exec(revokeOnDatabase(storedDb!, user!, host!));
            const revoked = grants.map(([user, host]) => `'${user}'@'${host}'`);
            const exists = await schemaExists(admin, db);
            if (exists) await admin.exec(dropDatabase(db));
            ctx.logger.info('mysql database deleted', { database: db, existed: exists, revoked: revoked.length });
            const what = exists ? `database ${db} dropped` : `database ${db} does not exist, nothing to drop`;
            return {
              databaseOwnerGuid: item.databaseOwnerGuid,
              detail: revoked.length ? `${what}; privileges revoked from ${revoked.join(', ')}` : what,
            };
          } catch (error) {
            throw wrap(prefix, error);
          }
        });
      },
      { sequential: true },
    ),
  });
