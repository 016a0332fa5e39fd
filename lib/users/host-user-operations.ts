import { z } from 'zod';
import type { ItemOutcome } from '../outcome.js';
import { commonFields, looseString, requiredString, safeToken } from '../input/fields.js';
import { defineOperation } from '../wecube/operation.js';
import { addUsers, deleteUsers, setUserPasswords, type AddUserRequest, type PasswordOutput, type UserDeps } from './host-users.js';
import { parseId, parsePathList, splitUserName } from './user-request.js';

const addInput = z.object({
  target: safeToken('target'),
  userName: requiredString(),
  guid: requiredString(),
  callbackParameter: looseString(),
  seed: looseString(),
  password: looseString(),
  userGroup: looseString(),
  userId: looseString(),
  groupId: looseString(),
  homeDir: looseString(),
  rwDir: looseString(),
  rwFile: looseString(),
});
const detailField = z
  .string()
  .describe('salt\'s response JSON of the job, as upstream: {"return": [{"<host>": {"pid", "retcode", "stderr", "stdout"}}]}; stdout says what was done');
const passwordOutput = z.object({ password: z.string().describe('{cipher_a}-encrypted with guid + seed'), detail: detailField });

/**
 * host-user/add: creates the user (and its group), or updates an existing one: uid, home, group membership,
 * password when one is given (addUsers). The WeCube adapter: its fields as upstream sends them.
 */
export const hostUserAdd = (deps: UserDeps) =>
  defineOperation({
    plugin: 'host-user',
    action: 'add',
    summary: 'Create or update a Linux user (user:group, uid/gid, home, rwDir/rwFile); password set as a SHA-512 hash',
    input: addInput,
    output: passwordOutput,
    run: async (items, ctx): Promise<ItemOutcome<PasswordOutput>[]> => {
      const outcomes = new Array<ItemOutcome<PasswordOutput>>(items.length);
      const requests: Array<{ index: number; request: AddUserRequest }> = [];
      items.forEach((item, index) => {
        try {
          const { user, group } = splitUserName(item.userName, item.userGroup);
          requests.push({
            index,
            request: {
              host: item.target,
              guid: item.guid,
              user,
              group,
              password: item.password,
              seed: item.seed,
              uid: parseId(item.userId, 'userId', deps.config.hosts.userMinUid),
              gid: parseId(item.groupId, 'groupId', 1),
              home: item.homeDir,
              rwDirs: parsePathList(item.rwDir, 'rwDir', item.target),
              rwFiles: parsePathList(item.rwFile, 'rwFile', item.target),
            },
          });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });
      const added = await addUsers(
        deps,
        requests.map((r) => r.request),
        ctx,
      );
      requests.forEach((r, i) => (outcomes[r.index] = added[i]!));
      return outcomes;
    },
  });

const deleteInput = z.object({ ...commonFields, target: safeToken('target'), userName: requiredString() });
const detailOutput = z.object({ detail: detailField });

/** host-user/delete: the WeCube adapter of deleteUsers. */
export const hostUserDelete = (deps: UserDeps) =>
  defineOperation({
    plugin: 'host-user',
    action: 'delete',
    summary: 'Delete a Linux user, and its home when it is its own below the home root (an absent user is reported, not an error)',
    input: deleteInput,
    output: detailOutput,
    run: (items, ctx) =>
      deleteUsers(
        deps,
        items.map((item) => ({ host: item.target, userName: item.userName })),
        ctx,
      ),
  });

const passwordInput = z.object({
  target: safeToken('target'),
  userName: requiredString(),
  password: requiredString(),
  guid: requiredString(),
  seed: looseString(),
  callbackParameter: looseString(),
});

/** host-user/password: the WeCube adapter of setUserPasswords. */
export const hostUserPassword = (deps: UserDeps) =>
  defineOperation({
    plugin: 'host-user',
    action: 'password',
    summary: "Change an existing Linux user's password (sent to the host as a SHA-512 crypt hash)",
    input: passwordInput,
    output: passwordOutput,
    run: (items, ctx) =>
      setUserPasswords(
        deps,
        items.map((item) => ({ host: item.target, userName: item.userName, password: item.password, guid: item.guid, seed: item.seed })),
        ctx,
      ),
  });
