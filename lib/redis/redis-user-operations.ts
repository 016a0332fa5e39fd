import { z } from 'zod';
import type { Config } from '../config.js';
import { resolveSeed } from '../crypto/cipher-a.js';
import { randomPassword } from '../crypto/random-password.js';
import { openSecret, sealSecret } from '../crypto/secret-fields.js';
import { DatabaseError, DatabaseUnavailableError, InputError } from '../errors.js';
import { looseString, requiredString } from '../input/fields.js';
import type { RunContext } from '../wecube/operation.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { hostField, portField } from '../input/server-fields.js';
import { splitList } from '../text/split-list.js';
import { aclSetUserRules, patternIsIllegal } from './acl-rules.js';
import { withRedis, type RedisConnector, type RedisSession } from './redis-session.js';

export interface RedisDeps {
  config: Config;
  connect: RedisConnector;
}

// Redis refuses spaces and NUL in user names; control characters would garble ACL LIST and logs.
const userNameField = () =>
  requiredString().refine((v) => /^[^\s\u0000-\u001f\u007f]{1,128}$/.test(v), {
    message: 'spaces and control characters are not allowed (max 128 characters)',
  });

const patternList = () =>
  looseString()
    .transform((v) => splitList(v))
    .refine((patterns) => !patterns.some(patternIsIllegal), { message: 'Contains illegal character' });

const connectionFields = {
  host: hostField(),
  guid: requiredString(),
  port: portField(6379),
  seed: looseString(),
  adminUserName: looseString(),
  adminPassword: requiredString(),
  userGuid: requiredString(),
  userName: userNameField(),
  callbackParameter: looseString(),
};
type ConnectionItem = z.output<z.ZodObject<typeof connectionFields>>;

/** Refuses to manage the account the operation logs in with (changing its rules would lock the admin out). */
function refuseAdminAccount(item: ConnectionItem) {
  if (item.userName === (item.adminUserName || 'default')) {
    throw new InputError(`Parameter userName validation failed: ${item.userName} is the admin account of this call`);
  }
}

async function asAdmin<T>(
  deps: RedisDeps,
  item: ConnectionItem,
  ctx: RunContext,
  prefix: string,
  fn: (session: RedisSession, seed: string) => Promise<T>,
): Promise<T> {
  const redactor = ctx.logger.redactor;
  const seed = resolveSeed(item.seed, deps.config.encryptSeed);
  const password = openSecret(item.guid, seed, item.adminPassword, redactor);
  const target = { host: item.host, port: item.port, username: item.adminUserName || undefined, password };
  try {
    return await withRedis(deps.connect, target, ctx.signal, (session) => fn(session, seed));
  } catch (error) {
    // Redis echoes a refused ACL rule in its reply, password included: mask every registered secret.
    const text = (e: Error) => prefix + (redactor.redact(e.message) as string);
    if (error instanceof DatabaseError) throw new DatabaseError(text(error), error, { cause: error });
    if (error instanceof DatabaseUnavailableError) throw new DatabaseUnavailableError(text(error), { cause: error });
    throw error;
  }
}

/**
 * redis-user/add: creates the ACL user with upstream's command set and read/write key patterns; on an
 * existing user the command set is re-applied, the patterns replaced when given and the password
 * replaced when given (upstream left it unchanged and still returned a new one).
 */
export const redisUserAdd = (deps: RedisDeps) =>
  defineOperation({
    plugin: 'redis-user',
    action: 'add',
    summary: 'Create or update a Redis ACL user: upstream command set, %R~/%W~ key patterns, password given or generated',
    input: z.object({
      ...connectionFields,
      userPassword: looseString(),
      userReadKeyPattern: patternList(),
      userWriteKeyPattern: patternList(),
    }),
    output: z.object({ userGuid: z.string(), userPassword: z.string().optional(), detail: z.string() }),
    run: eachItem(
      async (item, ctx) => {
        refuseAdminAccount(item);
        return asAdmin(deps, item, ctx, `Failed to add redis user:${item.userName}, `, async (session, seed) => {
          const given = item.userPassword ? openSecret(item.userGuid, seed, item.userPassword, ctx.logger.redactor) : undefined;
          const exists = (await session.command(['ACL', 'GETUSER', item.userName])) !== null;
          const password = given ?? (exists ? undefined : randomPassword());
          if (password !== undefined) ctx.logger.redactor.register(password);
          const sealed = password === undefined ? undefined : sealSecret(item.userGuid, seed, password);
          const rules = aclSetUserRules({
            password,
            readPatterns: item.userReadKeyPattern,
            writePatterns: item.userWriteKeyPattern,
            exists,
          });
          await session.command(['ACL', 'SETUSER', item.userName, ...rules]);
          ctx.logger.info('redis user added', { user: item.userName, existed: exists });
          const detail = exists
            ? `user ${item.userName} updated, password ${password === undefined ? 'unchanged' : 'replaced'}`
            : `user ${item.userName} created`;
          return { userGuid: item.userGuid, ...(sealed !== undefined && { userPassword: sealed }), detail };
        });
      },
      { sequential: true },
    ),
  });

/** redis-user/delete: ACL DELUSER; a missing user is reported in detail, not an error. */
export const redisUserDelete = (deps: RedisDeps) =>
  defineOperation({
    plugin: 'redis-user',
    action: 'delete',
    summary: 'Delete a Redis ACL user (its open connections are closed by Redis); a missing user is reported in detail',
    input: z.object(connectionFields),
    output: z.object({ userGuid: z.string(), detail: z.string() }),
    run: eachItem(
      async (item, ctx) => {
        refuseAdminAccount(item);
        return asAdmin(deps, item, ctx, `Failed to delete redis user:${item.userName}, `, async (session) => {
          const deleted = Number(await session.command(['ACL', 'DELUSER', item.userName]));
          ctx.logger.info('redis user deleted', { user: item.userName, existed: deleted > 0 });
          return {
            userGuid: item.userGuid,
            detail: deleted > 0 ? `user ${item.userName} deleted` : `user ${item.userName} does not exist, nothing to delete`,
          };
        });
      },
      { sequential: true },
    ),
  });
