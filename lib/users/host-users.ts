import { resolveSeed } from '../crypto/cipher-a.js';
import { randomPassword } from '../crypto/random-password.js';
import { openSecret, sealSecret } from '../crypto/secret-fields.js';
import { InputError, JobFailedError } from '../errors.js';
import { batchOptions, type HostDeps } from '../files/deps.js';
import type { Redactor } from '../log/redactor.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import { hostError } from '../salt/host-error.js';
import { unanswered, type HostResult } from '../salt/normalise-result.js';
import { runBatched } from '../salt/run-batched.js';
import { sha512Crypt } from './sha512-crypt.js';
import { parseDir, parseId, splitUserName } from './user-request.js';
import { addUserCall, deleteUserCall, readAnswer, setPasswordCall, type UserPlan } from './user-scripts.js';

/** What the host-user cores need: salt and the config. */
export type UserDeps = Pick<HostDeps, 'salt' | 'config'>;

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

/** The rwDir and rwFile paths of a request, with the field each came from, no path twice. */
function rwPaths(rwDirs: string[], rwFiles: string[]): UserPlan['rwPaths'] {
  const seen = new Set<string>();
  return [...rwDirs.map((path) => ({ field: 'rwDir' as const, path })), ...rwFiles.map((path) => ({ field: 'rwFile' as const, path }))].filter(
    (p) => !seen.has(p.path) && !!seen.add(p.path),
  );
}

/**
 * The error of a host-user script's refusal or failure on a host (user-scripts.ts): the texts name the
 * account or field, the path and the host. `what` starts a failure: `Adding user app`.
 */
function scriptError(result: HostResult, what: string, context: { user: string; group?: string | undefined; minUid: number }): Error {
  if (unanswered(result)) return hostError(result);
  const { host } = result;
  const answer = readAnswer(result.stdout);
  const f = answer?.fields ?? [];
  if (answer?.kind === 'refuse') {
    const [kind = '', a = '', b = '', c = '', d = '', e = ''] = f;
    const field = (problem: string) => new InputError(`Parameter ${a} validation failed: ${problem} on ${host}`);
    switch (kind) {
      case 'system':
        return new InputError(
          `${a} ${a === 'user' ? context.user : (context.group ?? '')} on ${host} is a system account (${a === 'user' ? 'uid' : 'gid'} ${b} < ${context.minUid}); host-user does not change it`,
        );
      case 'missing':
        return new InputError(`user ${context.user} not exist on ${host}`);
      case 'unresolved':
        return field(`${b} could not be resolved (realpath failed)`);
      case 'unreadable':
        return field(`${b} exists but its owner could not be read`);
      case 'owner':
        return field(`${b} exists and is owned by a system account (uid ${c} < ${context.minUid})`);
      case 'tree':
        return field(`${b} goes through a symbolic link: ${c} ${d === 'dir' ? 'is a system directory' : `is under the system tree ${e}`}`);
      case 'link':
        return new JobFailedError(`${what} failed on ${host}: write guard: ${a}`, host);
    }
  }
  const why = (result.stderr || result.message || '').trim().split('\n').pop();
  const step = answer?.kind === 'failed' ? `${f[0]}: ` : '';
  return new JobFailedError(`${what} failed on ${host}: ${step}${why || 'the host script gave no answer'}`, host);
}

/**
 * An item's `detail` as upstream sends it: salt's response JSON of the host's one job,
 * `{"return": [{"<host>": {"pid", "retcode", "stderr", "stdout"}}]}`, which callers parse for retcode and
 * stdout; stdout says what was done (`user app created on 10.0.0.1 (group apps)`).
 */
export function saltDetail(result: HostResult, said: string): string {
  const ret = result.ret && typeof result.ret === 'object' ? (result.ret as Record<string, unknown>) : {};
  return JSON.stringify({
    return: [{ [result.host]: { pid: typeof ret['pid'] === 'number' ? ret['pid'] : 0, retcode: result.retcode ?? 0, stderr: result.stderr, stdout: said } }],
  });
}

/** What deleting a user produced (a type, not an interface: operation outputs must be assignable to Record<string, unknown>). */
export type DetailOutput = {
  /** salt's response JSON of the job, as upstream: {"return": [{"<host>": {"pid", "retcode", "stderr", "stdout"}}]}; stdout says what was done. */
  detail: string;
};

/** What adding a user or setting its password produced. */
export type PasswordOutput = DetailOutput & {
  /** The password, `{cipher_a}`-encrypted with guid + seed. */
  password: string;
};

/** One user to create or update on a host: the typed input of addUsers (apply-deployment and releases call it too). */
export interface AddUserRequest {
  host: string;
  /** Seals the returned password (`{cipher_a}`, with the seed). */
  guid: string;
  user: string;
  group?: string | undefined;
  /** As given (`{cipher_a}`, legacy hex or plain); absent: one is generated (and set only on a new user). */
  password?: string | undefined;
  seed?: string | undefined;
  uid?: number | undefined;
  /** Only with a group, and only for a group that does not exist yet. */
  gid?: number | undefined;
  home?: string | undefined;
  rwDirs?: readonly string[];
  rwFiles?: readonly string[];
}

/**
 * Creates or updates users, one salt job per host (user-scripts.ts): the group, the user, its password
 * (given, or generated for a new user), rwDir/rwFile paths owned by it. Names and paths are judged here
 * (accountNameProblem, system trees) whoever the caller is; the password reaches the host only as a
 * SHA-512 crypt hash and comes back `{cipher_a}`-encrypted. One outcome per request, in order.
 */
export async function addUsers(deps: UserDeps, requests: readonly AddUserRequest[], ctx: RunContext): Promise<ItemOutcome<PasswordOutput>[]> {
  const minUid = deps.config.hosts.userMinUid;
  const hash = hasher(ctx.logger.redactor);
  const outcomes = new Array<ItemOutcome<PasswordOutput>>(requests.length);
  const reqs: Array<{ index: number; host: string; plan: UserPlan; out: string }> = [];
  requests.forEach((r, index) => {
    try {
      const { user, group } = splitUserName(r.user, r.group);
      const seed = resolveSeed(r.seed, deps.config.encryptSeed);
      const given = r.password?.trim() ? r.password : undefined;
      const password = given !== undefined ? openSecret(r.guid, seed, given, ctx.logger.redactor) : randomPassword();
      ctx.logger.redactor.register(password);
      const out = passwordOut(r.guid, seed, password, given);
      if (r.gid !== undefined && !group) throw new InputError('Parameter userGroup can not empty. (groupId needs a group name)');
      if (r.uid !== undefined) parseId(String(r.uid), 'userId', minUid);
      const paths = (list: readonly string[] | undefined, field: string) => (list ?? []).map((p) => parseDir(p, field, r.host)!);
      const plan: UserPlan = {
        user,
        group,
        uid: r.uid,
        gid: r.gid,
        home: parseDir(r.home, 'homeDir', r.host),
        passwordHash: hash(password),
        passwordGiven: given !== undefined,
        rwPaths: rwPaths(paths(r.rwDirs, 'rwDir'), paths(r.rwFiles, 'rwFile')),
      };
      reqs.push({ index, host: r.host, plan, out });
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  });

  // One job per request: checks and changes together, one salt round trip, as upstream.
  const results = await runBatched(
    deps.salt(),
    reqs.map((r) => ({ host: r.host, ...addUserCall(r.plan, minUid) })),
    batchOptions(deps, ctx),
  );
  results.forEach((result, i) => {
    const { index, host, plan, out } = reqs[i]!;
    const answer = result.ok ? readAnswer(result.stdout) : undefined;
    if (answer?.kind !== 'done') {
      outcomes[index] = { ok: false, error: scriptError(result, `Adding user ${plan.user}`, { user: plan.user, group: plan.group, minUid }) };
      return;
    }
    const [what = 'updated', passwordSet] = answer.fields;
    // An existing user keeps the password it has unless the caller gave one.
    const kept = passwordSet !== '1';
    ctx.logger.info(`user ${what}`, { host, user: plan.user, group: plan.group });
    outcomes[index] = {
      ok: true,
      output: {
        password: kept ? '' : out,
        detail: saltDetail(result, `user ${plan.user} ${what} on ${host}${plan.group ? ` (group ${plan.group})` : ''}${kept ? ', password unchanged' : ''}`),
      },
    };
  });
  return outcomes;
}

/** One user to delete on a host: the typed input of deleteUsers. */
export interface DeleteUserRequest {
  host: string;
  /** `user` or `user:group` (the group is not used). */
  userName: string;
}

/**
 * host-user/delete's core: removes the user, with its home (`userdel -rf`) only when the home is a directory of
 * the user's own below HOST_USER_HOME_ROOT (checked on the host in the lookup round); otherwise the home
 * is kept and the detail says why. An absent user is a success that says so.
 */
export async function deleteUsers(deps: UserDeps, requests: readonly DeleteUserRequest[], ctx: RunContext): Promise<ItemOutcome<DetailOutput>[]> {
  const minUid = deps.config.hosts.userMinUid;
  const outcomes = new Array<ItemOutcome<DetailOutput>>(requests.length);
  const reqs: Array<{ index: number; host: string; user: string }> = [];
  requests.forEach((request, index) => {
    try {
      reqs.push({ index, host: request.host, user: splitUserName(request.userName).user });
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  });
  const homeRoot = deps.config.hosts.userHomeRoot;
  // One job per item: the account, the home decision and userdel together (user-scripts.ts).
  const results = await runBatched(
    deps.salt(),
    reqs.map((r) => ({ host: r.host, ...deleteUserCall(r.user, homeRoot, minUid) })),
    batchOptions(deps, ctx),
  );
  results.forEach((result, i) => {
    const { index, host, user } = reqs[i]!;
    const answer = result.ok ? readAnswer(result.stdout) : undefined;
    if (answer?.kind === 'absent')
      return void (outcomes[index] = { ok: true, output: { detail: saltDetail(result, `user ${user} does not exist on ${host}, nothing to delete`) } });
    if (answer?.kind !== 'done') return void (outcomes[index] = { ok: false, error: scriptError(result, `Deleting user ${user}`, { user, minUid }) });
    const [, why = '', owner = '', ...rest] = answer.fields;
    const home = (why.startsWith('owner') ? rest : [owner, ...rest]).join('\t') || '(unknown)';
    const reason = keptBecause(why, owner, user, homeRoot);
    const kept = reason ? `; home ${home} kept: ${reason}` : '';
    ctx.logger.info('user deleted', { host, user, homeKept: !!kept });
    outcomes[index] = { ok: true, output: { detail: saltDetail(result, `user ${user} deleted on ${host}${kept}`) } };
  });
  return outcomes;
}

/** Why host-user/delete kept a home (HOME_DECISION_FUNCTION's `why`); undefined when it was purged or there was none. */
function keptBecause(why: string, owner: string, user: string, homeRoot: string): string | undefined {
  switch (why) {
    case '':
    case 'none':
    case 'missing':
      return undefined;
    case 'link':
      return 'it is a symbolic link';
    case 'notdir':
      return 'it is not a directory';
    case 'owner':
      return owner === '?' ? 'its owner could not be read' : `it is owned by uid ${owner}, not by ${user}`;
    case 'outside':
      return `it is not below the home root ${homeRoot}`;
    default:
      return 'it could not be checked';
  }
}

/** One password to set on a host: the typed input of setUserPasswords. */
export interface PasswordRequest {
  host: string;
  /** `user` or `user:group` (the group is not used). */
  userName: string;
  /** As given (`{cipher_a}`, legacy hex or plain). */
  password: string;
  /** Seals the returned password (`{cipher_a}`, with the seed). */
  guid: string;
  seed?: string | undefined;
}

/** host-user/password's core: sets an existing user's password (as a SHA-512 hash through `chpasswd -e`). */
export async function setUserPasswords(deps: UserDeps, requests: readonly PasswordRequest[], ctx: RunContext): Promise<ItemOutcome<PasswordOutput>[]> {
  const minUid = deps.config.hosts.userMinUid;
  const hash = hasher(ctx.logger.redactor);
  const outcomes = new Array<ItemOutcome<PasswordOutput>>(requests.length);
  const reqs: Array<{ index: number; host: string; user: string; hash: string; out: string }> = [];
  requests.forEach((request, index) => {
    try {
      const { user } = splitUserName(request.userName);
      const seed = resolveSeed(request.seed, deps.config.encryptSeed);
      const password = openSecret(request.guid, seed, request.password, ctx.logger.redactor);
      reqs.push({ index, host: request.host, user, hash: hash(password), out: passwordOut(request.guid, seed, password, request.password) });
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  });
  // One job per item: the account check and chpasswd together (user-scripts.ts).
  const results = await runBatched(
    deps.salt(),
    reqs.map((r) => ({ host: r.host, ...setPasswordCall(r.user, r.hash, minUid) })),
    batchOptions(deps, ctx),
  );
  results.forEach((result, i) => {
    const req = reqs[i]!;
    if (!result.ok || readAnswer(result.stdout)?.kind !== 'done') {
      outcomes[req.index] = { ok: false, error: scriptError(result, `Changing the password of user ${req.user}`, { user: req.user, minUid }) };
      return;
    }
    ctx.logger.info('user password changed', { host: req.host, user: req.user });
    outcomes[req.index] = { ok: true, output: { password: req.out, detail: saltDetail(result, `password of user ${req.user} changed on ${req.host}`) } };
  });
  return outcomes;
}
