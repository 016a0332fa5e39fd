import { z } from 'zod';
import { randomPassword } from '../crypto/random-password.js';
import { openSecret, sealSecret } from '../crypto/secret-fields.js';
import { DatabaseError, InputError } from '../errors.js';
import { looseString, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { adminConnectionFields, withAdminSession, type MysqlDeps } from './admin-session.js';
import { alterPassword, createUser, dropUser, grantableDatabaseNameProblem, grantOnDatabase, setPasswordLegacy } from './admin-statements.js';
import { accountExists, accountNameField, optionalDatabaseNameField } from './mysql-database-operations.js';
import { systemAccountProblem } from './system-names.js';

const userFields = {
  ...adminConnectionFields,
  databaseUserName: accountNameField(),
  databaseUserGuid: requiredString(),
};

/** mysql-user/add: an account `<user>`@`%` with the given or a generated password, optionally granted on one database. */
export const mysqlUserAdd = (deps: MysqlDeps) =>
  defineOperation({
    plugin: 'mysql-user',
    action: 'add',
    summary: 'Create an account (password given or generated, returned {cipher_a}-encrypted), optionally granted ALL on a database',
    input: z.object({
      ...userFields,
      databaseUserPassword: looseString(),
      databaseName: optionalDatabaseNameField(grantableDatabaseNameProblem),
    }),
    output: z.object({ databaseUserGuid: z.string(), databaseUserPassword: z.string() }),
    run: eachItem(
      async (item, ctx) =>
        withAdminSession(deps, item, ctx, async (admin, seed) => {
          const user = item.databaseUserName;
          const prefix = `Failed to Add mysql user:${user}, `;
          const given = item.databaseUserPassword ? openSecret(item.databaseUserGuid, seed, item.databaseUserPassword, ctx.logger.redactor) : undefined;
          if (await accountExists(admin, user)) throw new DatabaseError(`${prefix}user already exist`, { errno: 1396 });
          const password = given ?? randomPassword();
          ctx.logger.redactor.register(password);
          const sealed = sealSecret(item.databaseUserGuid, seed, password);
          try {
            await admin.exec(createUser(user, password));
          } catch (error) {
            throw error instanceof DatabaseError ? new DatabaseError(prefix + error.message, error, { cause: error }) : error;
          }
          if (item.databaseName) {
            try {
              await admin.exec(grantOnDatabase(item.databaseName, user));
            } catch (error) {
              await admin.exec(dropUser(user)).catch(() => undefined);
              throw error instanceof DatabaseError ? new DatabaseError(`${prefix}${error.message} (account removed again)`, error, { cause: error }) : error;
            }
          }
          ctx.logger.info('mysql user added', { user, database: item.databaseName });
          return { databaseUserGuid: item.databaseUserGuid, databaseUserPassword: sealed };
        }),
      { sequential: true },
    ),
  });

/**
 * mysql-user/delete: drops the account (and with it its grants); a missing account is reported, not an
 * error. root and the server's own accounts (mysql.sys, mariadb.sys...) are refused before connecting.
 */
export const mysqlUserDelete = (deps: MysqlDeps) =>
  defineOperation({
    plugin: 'mysql-user',
    action: 'delete',
    summary: 'Drop an account and its grants; a missing account is reported in detail',
    input: z.object(userFields),
    output: z.object({ databaseUserGuid: z.string(), detail: z.string() }),
    run: eachItem(
      async (item, ctx) => {
        const system = systemAccountProblem(item.databaseUserName);
        if (system) throw new InputError(`Parameter databaseUserName validation failed: ${system} (on ${item.host}:${item.port})`);
        return withAdminSession(deps, item, ctx, async (admin) => {
          const user = item.databaseUserName;
          if (!(await accountExists(admin, user))) {
            return { databaseUserGuid: item.databaseUserGuid, detail: `user ${user} does not exist, nothing to drop` };
          }
          await admin.exec(dropUser(user));
          ctx.logger.info('mysql user deleted', { user });
          return { databaseUserGuid: item.databaseUserGuid, detail: `user ${user} dropped` };
        });
      },
      { sequential: true },
    ),
  });

/** mysql-user/change-password: ALTER USER (SET PASSWORD on servers without it); the new password is returned encrypted. */
export const mysqlUserChangePassword = (deps: MysqlDeps) =>
  defineOperation({
    plugin: 'mysql-user',
    action: 'change-password',
    summary: "Change an account's password (given {cipher_a}-encrypted or plain); returns it {cipher_a}-encrypted",
    input: z.object({ ...userFields, databaseUserPassword: requiredString() }),
    output: z.object({ databaseUserGuid: z.string(), databaseUserPassword: z.string() }),
    run: eachItem(
      async (item, ctx) =>
        withAdminSession(deps, item, ctx, async (admin, seed) => {
          const user = item.databaseUserName;
          const password = openSecret(item.databaseUserGuid, seed, item.databaseUserPassword, ctx.logger.redactor);
          const sealed = sealSecret(item.databaseUserGuid, seed, password);
          if (!(await accountExists(admin, user))) throw new DatabaseError(`user ${user} not exist`, { errno: 1396 });
          try {
            await admin.exec(alterPassword(user, password));
          } catch (error) {
            // ER_PARSE_ERROR: a server older than ALTER USER ... IDENTIFIED BY (MariaDB < 10.2).
            if (!(error instanceof DatabaseError && error.errno === 1064)) throw error;
            await admin.exec(setPasswordLegacy(user, password));
          }
          ctx.logger.info('mysql user password changed', { user });
          return { databaseUserGuid: item.databaseUserGuid, databaseUserPassword: sealed };
        }),
      { sequential: true },
    ),
  });
