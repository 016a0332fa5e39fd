import { z } from 'zod';
import { resolveSeed } from '../crypto/cipher-a.js';
import { randomPassword } from '../crypto/random-password.js';
import { openSecret, sealSecret } from '../crypto/secret-fields.js';
import { InputError, JobFailedError } from '../errors.js';
import { batchOptions, type HostDeps } from '../files/deps.js';
import type { Redactor } from '../log/redactor.js';
import { applySteps, stepsError } from '../salt/apply-steps.js';
import { hostError } from '../salt/host-error.js';
import { unanswered, type HostResult } from '../salt/normalise-result.js';
import { runBatched, type HostCall } from '../salt/run-batched.js';
import { commonFields, looseString, requiredString, safeToken } from '../wecube/fields.js';
import { defineOperation, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { accountFactsCall, decideHomePurge, ownershipProblem, parseAccountFacts, parsePathOwners, type HostFacts } from './host-checks.js';
import { sha512Crypt } from './sha512-crypt.js';
import { parseDir, parseId, parsePathList, splitUserName } from './user-request.js';
import { addUserSteps, deleteUserCall, type UserPlan, setPasswordCall } from './user-states.js';

type UserDeps = Pick<HostDeps, 'salt' | 'config'>;

/** An account as `user.info` / `group.info` describe it; undefined when it does not exist. */
interface Account {
  id: number;
  home?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an account from a `user.info`/`group.info` result (`{}` = no such account). */
export function accountOf(ret: unknown, kind: 'user' | 'group'): Account | undefined {
  if (!isObject(ret) || Object.keys(ret).length === 0) return undefined;
  const id = Number(ret[kind === 'user' ? 'uid' : 'gid']);
  return { id, ...(typeof ret['home'] === 'string' && { home: ret['home'] }) };
}

/** The call that looks an account up on a host (one job per distinct name, on all its hosts). */
const accountCall = (kind: 'user' | 'group', host: string, name: string): HostCall => ({ host, fun: `${kind}.info`, arg: [name] });

/**
 * Runs lists of calls as ONE round of salt jobs (accounts and path checks together, never a round per
 * list or per host) and gives the results back split the same way.
 */
async function lookup(deps: UserDeps, ctx: RunContext, ...lists: HostCall[][]): Promise<HostResult[][]> {
  const results = await runBatched(deps.salt(), lists.flat(), batchOptions(deps, ctx));
  let offset = 0;
  return lists.map((list) => results.slice(offset, (offset += list.length)));
}

/** Refuses an existing account below HOST_USER_MIN_UID: host-user never changes root or daemon accounts. */
function guardSystem(kind: 'user' | 'group', name: string, account: Account | undefined, minUid: number, host: string): void {
  if (account && account.id < minUid) {
    throw new InputError(`${kind} ${name} on ${host} is a system account (${kind === 'user' ? 'uid' : 'gid'} ${account.id} < ${minUid}); host-user does not change it`);
  }
}

/**
 * Hashes each distinct password once per request (random salt): items setting the same password on several
 * hosts send the same arguments and share one salt job. Hashes are registered for redaction too.
 */
function hasher(redactor: Redactor) {
  const hashes = new Map<string, string>();
  return (password: string) => {
    let hash = hashes.get(password);
    if (!hash) {
      hash = sha512Crypt(password);
      hashes.set(password, hash);
      redactor.register(hash);
    }
    return hash;
  };
}

/** The password handed back: `{cipher_a}` with a seed; without one, only the caller's own input, as it came. */
function passwordOut(guid: string, seed: string, plain: string, given: string | undefined): string {
  if (seed) return sealSecret(guid, seed, plain);
  if (given !== undefined) return given;
  throw new InputError('Parameter seed can not empty.');
}

/** The account facts of a host (accountFactsCall); an unreadable answer is a failed job on that host. */
function readFacts(result: HostResult): HostFacts {
  try {
    return parseAccountFacts(result.stdout);
  } catch (error) {
    throw new JobFailedError(`Checking the accounts failed on ${result.host}: ${(error as Error).message}`, result.host);
  }
}

/** The rwDir and rwFile paths of a plan, with the field each came from. */
const rwPaths = (plan: Pick<UserPlan, 'rwDirs' | 'rwFiles'>) => {
  const seen = new Set<string>();
  return [...plan.rwDirs.map((path) => ({ field: 'rwDir', path })), ...plan.rwFiles.map((path) => ({ field: 'rwFile', path }))].filter(
    (p) => !seen.has(p.path) && !!seen.add(p.path),
  );
};

/**
 * Refuses rw paths that exist and belong to root or a system account, or that lead into a system tree
 * through a link, from the host's answer to accountFactsCall. Throws InputError naming field, path and host.
 */
function guardOwners(paths: Array<{ field: string; path: string }>, stdout: string, minUid: number, host: string): void {
  let facts: ReturnType<typeof parsePathOwners>;
  try {
    facts = parsePathOwners(stdout, paths.map((p) => p.path));
  } catch (error) {
    throw new JobFailedError(`Checking the rwDir/rwFile paths failed on ${host}: ${(error as Error).message}`, host);
  }
  facts.forEach((f, i) => {
    const problem = ownershipProblem(f, minUid);
    if (problem) throw new InputError(`Parameter ${paths[i]!.field} validation failed: ${problem} on ${host}`);
  });
}

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
const passwordOutput = z.object({ password: z.string().describe('{cipher_a}-encrypted with guid + seed'), detail: z.string() });
type PasswordOutput = z.output<typeof passwordOutput>;

/**
 * host-user/add: creates the user (and its group), or updates an existing one: uid, home, group membership,
 * password when one is given. The password (given, `{cipher_a}` or plain, or generated) reaches the host
 * only as a SHA-512 crypt hash and is returned `{cipher_a}`-encrypted.
 */
export const hostUserAdd = (deps: UserDeps) =>
  defineOperation({
    plugin: 'host-user',
    action: 'add',
    summary: 'Create or update a Linux user (user:group, uid/gid, home, rwDir/rwFile); password set as a SHA-512 hash',
    input: addInput,
    output: passwordOutput,
    run: async (items, ctx): Promise<ItemOutcome<PasswordOutput>[]> => {
      const minUid = deps.config.hosts.userMinUid;
      const hash = hasher(ctx.logger.redactor);
      const outcomes = new Array<ItemOutcome<PasswordOutput>>(items.length);
      type Req = { index: number; host: string; user: string; group: string | undefined; gid: number | undefined; plan: Omit<UserPlan, 'exists' | 'gid'>; password: string; generated: boolean };
      const reqs: Req[] = [];
      items.forEach((item, index) => {
        try {
          const { user, group } = splitUserName(item.userName, item.userGroup);
          const seed = resolveSeed(item.seed, deps.config.encryptSeed);
          const given = item.password?.trim() ? item.password : undefined;
          const password = given !== undefined ? openSecret(item.guid, seed, given, ctx.logger.redactor) : randomPassword();
          ctx.logger.redactor.register(password);
          passwordOut(item.guid, seed, password, given);
          const gid = parseId(item.groupId, 'groupId', 1);
          if (gid !== undefined && !group) throw new InputError('Parameter userGroup can not empty. (groupId needs a group name)');
          reqs.push({
            index,
            host: item.target,
            user,
            group,
            gid,
            password,
            generated: given === undefined,
            plan: {
              user,
              group,
              uid: parseId(item.userId, 'userId', minUid),
              home: parseDir(item.homeDir, 'homeDir', item.target),
              passwordHash: hash(password),
              rwDirs: parsePathList(item.rwDir, 'rwDir', item.target),
              rwFiles: parsePathList(item.rwFile, 'rwFile', item.target),
            },
          });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });

      // One job per item (user, group and rw path facts together): one salt round trip, as upstream.
      const found = await runBatched(
        deps.salt(),
        reqs.map((r) => ({ host: r.host, ...accountFactsCall({ user: r.user, group: r.group, paths: rwPaths(r.plan).map((p) => p.path) }) })),
        batchOptions(deps, ctx),
      );

      const calls: Array<{ req: Req; exists: boolean; steps: ReturnType<typeof addUserSteps> }> = [];
      reqs.forEach((req, i) => {
        const r = found[i]!;
        if (!r.ok) {
          outcomes[req.index] = { ok: false, error: hostError(r) };
          return;
        }
        try {
          const facts = readFacts(r);
          const existing = facts.user;
          const existingGroup = req.group ? facts.group : undefined;
          guardSystem('user', req.user, existing, minUid, req.host);
          guardSystem('group', req.group ?? '', existingGroup, minUid, req.host);
          const paths = rwPaths(req.plan);
          if (paths.length) guardOwners(paths, facts.owners, minUid, req.host);
          // An existing user keeps the password it has unless the caller gave one.
          const plan: UserPlan = {
            ...req.plan,
            exists: !!existing,
            gid: existingGroup ? undefined : req.gid,
            passwordHash: existing && req.generated ? undefined : req.plan.passwordHash,
          };
          calls.push({ req, exists: !!existing, steps: addUserSteps(plan) });
        } catch (error) {
          outcomes[req.index] = { ok: false, error };
        }
      });

      const results = await applySteps(deps.salt(), calls.map((c) => ({ host: c.req.host, steps: c.steps })), batchOptions(deps, ctx));
      results.forEach((result, i) => {
        const { req, exists } = calls[i]!;
        const item = items[req.index]!;
        if (!result.ok) {
          outcomes[req.index] = { ok: false, error: stepsError(result, `Adding user ${req.user}`) };
          return;
        }
        const seed = resolveSeed(item.seed, deps.config.encryptSeed);
        const keptPassword = exists && req.generated;
        ctx.logger.info(exists ? 'user updated' : 'user created', { host: req.host, user: req.user, group: req.group });
        outcomes[req.index] = {
          ok: true,
          output: {
            password: keptPassword ? '' : passwordOut(item.guid, seed, req.password, req.generated ? undefined : item.password),
            detail: `user ${req.user} ${exists ? 'updated' : 'created'} on ${req.host}${req.group ? ` (group ${req.group})` : ''}${keptPassword ? ', password unchanged' : ''}`,
          },
        };
      });
      return outcomes;
    },
  });

const deleteInput = z.object({ ...commonFields, target: safeToken('target'), userName: requiredString() });
const detailOutput = z.object({ detail: z.string() });

/**
 * host-user/delete: removes the user, with its home (`userdel -rf`) only when the home is a directory of
 * the user's own below HOST_USER_HOME_ROOT (checked on the host in the lookup round); otherwise the home
 * is kept and the detail says why. An absent user is a success that says so.
 */
export const hostUserDelete = (deps: UserDeps) =>
  defineOperation({
    plugin: 'host-user',
    action: 'delete',
    summary: 'Delete a Linux user, and its home when it is its own below the home root (an absent user is reported, not an error)',
    input: deleteInput,
    output: detailOutput,
    run: async (items, ctx): Promise<ItemOutcome<z.output<typeof detailOutput>>[]> => {
      const minUid = deps.config.hosts.userMinUid;
      const outcomes = new Array<ItemOutcome<z.output<typeof detailOutput>>>(items.length);
      const reqs: Array<{ index: number; host: string; user: string }> = [];
      items.forEach((item, index) => {
        try {
          reqs.push({ index, host: item.target, user: splitUserName(item.userName).user });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });
      const homeRoot = deps.config.hosts.userHomeRoot;
      const found = await runBatched(
        deps.salt(),
        reqs.map((r) => ({ host: r.host, ...accountFactsCall({ user: r.user, homeRoot }) })),
        batchOptions(deps, ctx),
      );
      const calls: Array<{ req: (typeof reqs)[number]; purge: boolean; kept: string }> = [];
      reqs.forEach((req, i) => {
        const r = found[i]!;
        if (!r.ok) return void (outcomes[req.index] = { ok: false, error: hostError(r) });
        try {
          const facts = readFacts(r);
          const account = facts.user;
          if (!account) return void (outcomes[req.index] = { ok: true, output: { detail: `user ${req.user} does not exist on ${req.host}, nothing to delete` } });
          guardSystem('user', req.user, account, minUid, req.host);
          const home = decideHomePurge(facts.home, { user: req.user, uid: account.id, home: account.home }, homeRoot);
          const kept = !home.purge && home.kept ? `; home ${home.kept.home} kept: ${home.kept.why}` : '';
          calls.push({ req, purge: home.purge, kept });
        } catch (error) {
          outcomes[req.index] = { ok: false, error };
        }
      });
      const results = await runBatched(deps.salt(), calls.map((c) => ({ host: c.req.host, ...deleteUserCall(c.req.user, c.purge) })), batchOptions(deps, ctx));
      results.forEach((result, i) => {
        const { req, kept } = calls[i]!;
        if (result.ok) ctx.logger.info('user deleted', { host: req.host, user: req.user, homeKept: !!kept });
        const why = (result.stderr || result.stdout).trim().split('\n').pop();
        outcomes[req.index] = result.ok
          ? { ok: true, output: { detail: `user ${req.user} deleted on ${req.host}${kept}` } }
          : { ok: false, error: unanswered(result) ? hostError(result) : new JobFailedError(`Deleting user ${req.user} failed on ${req.host}: ${why || result.message}`, req.host) };
      });
      return outcomes;
    },
  });

const passwordInput = z.object({
  target: safeToken('target'),
  userName: requiredString(),
  password: requiredString(),
  guid: requiredString(),
  seed: looseString(),
  callbackParameter: looseString(),
});

/** host-user/password: sets an existing user's password (as a SHA-512 hash through `chpasswd -e`). */
export const hostUserPassword = (deps: UserDeps) =>
  defineOperation({
    plugin: 'host-user',
    action: 'password',
    summary: "Change an existing Linux user's password (sent to the host as a SHA-512 crypt hash)",
    input: passwordInput,
    output: passwordOutput,
    run: async (items, ctx): Promise<ItemOutcome<PasswordOutput>[]> => {
      const minUid = deps.config.hosts.userMinUid;
      const hash = hasher(ctx.logger.redactor);
      const outcomes = new Array<ItemOutcome<PasswordOutput>>(items.length);
      const reqs: Array<{ index: number; host: string; user: string; hash: string; out: string }> = [];
      items.forEach((item, index) => {
        try {
          const { user } = splitUserName(item.userName);
          const seed = resolveSeed(item.seed, deps.config.encryptSeed);
          const password = openSecret(item.guid, seed, item.password, ctx.logger.redactor);
          reqs.push({ index, host: item.target, user, hash: hash(password), out: passwordOut(item.guid, seed, password, item.password) });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });
      const [found = []] = await lookup(deps, ctx, reqs.map((r) => accountCall('user', r.host, r.user)));
      const calls: Array<(typeof reqs)[number]> = [];
      reqs.forEach((req, i) => {
        const r = found[i]!;
        if (!r.ok) return void (outcomes[req.index] = { ok: false, error: hostError(r) });
        const account = accountOf(r.ret, 'user');
        if (!account) return void (outcomes[req.index] = { ok: false, error: new InputError(`user ${req.user} not exist on ${req.host}`) });
        try {
          guardSystem('user', req.user, account, minUid, req.host);
          calls.push(req);
        } catch (error) {
          outcomes[req.index] = { ok: false, error };
        }
      });
      const results = await runBatched(
        deps.salt(),
        calls.map((c) => ({ host: c.host, ...setPasswordCall(c.user, c.hash) })),
        batchOptions(deps, ctx),
      );
      results.forEach((result, i) => {
        const req = calls[i]!;
        if (!result.ok) outcomes[req.index] = { ok: false, error: hostError(result) };
        else {
          ctx.logger.info('user password changed', { host: req.host, user: req.user });
          outcomes[req.index] = { ok: true, output: { password: req.out, detail: `password of user ${req.user} changed on ${req.host}` } };
        }
      });
      return outcomes;
    },
  });
