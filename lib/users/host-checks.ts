/**
 * What host-user must know about a host before it acts, in one job (accountFactsCall): the accounts, who
 * owns each rwDir/rwFile and where it really leads (add), and whether a user's home is a directory of its
 * own below the home root (delete). A constant shell script reading its values on stdin (one per line;
 * host paths and account names never hold a newline), so nothing from a request is ever part of a command
 * line; the decisions are made here, from its answer.
 */
import { isWithin, normalisePath } from '../files/host-path.js';
import { systemTreeProblem } from '../files/system-paths.js';

const sh = (script: string, name: string, stdin: string) => ({
  fun: 'cmd.run_all',
  arg: [['/bin/sh', '-c', script, name]],
  kwarg: { stdin, python_shell: false, timeout: 30 },
});

/** One path as the host sees it: `uid` undefined when it does not exist, NaN when it could not be read. */
export interface PathFacts {
  path: string;
  uid: number | undefined;
  real: string;
}

/**
 * Reads the `path` lines of accountFactsCall's answer (`<owner uid | - | ?>\t<realpath -m>` each); throws
 * when it does not have one line per path (an unexpected host).
 */
export function parsePathOwners(stdout: string, paths: readonly string[]): PathFacts[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== paths.length) throw new Error(`path owner check gave ${lines.length} lines for ${paths.length} paths`);
  return paths.map((path, i) => {
    const line = lines[i]!;
    const tab = line.indexOf('\t');
    const uidText = tab < 0 ? '?' : line.slice(0, tab);
    const real = tab < 0 ? '' : line.slice(tab + 1);
    const uid = uidText === '-' ? undefined : /^\d+$/.test(uidText) ? Number(uidText) : NaN;
    return { path, uid, real };
  });
}

/**
 * Why a path may not be handed to an application user, from what the host says about it: it leads into
 * a system tree through a link, or it exists and belongs to root or another system account (uid below
 * `minUid`). A path that does not exist yet is fine. The message starts with the path.
 */
export function ownershipProblem(facts: PathFacts, minUid: number): string | undefined {
  if (!facts.real.startsWith('/')) return `${facts.path} could not be resolved (realpath failed)`;
  const real = normalisePath(facts.real);
  const treeProblem = real === facts.path ? undefined : systemTreeProblem(real);
  if (treeProblem) return `${facts.path} goes through a symbolic link: ${treeProblem}`;
  if (facts.uid === undefined) return undefined;
  if (Number.isNaN(facts.uid)) return `${facts.path} exists but its owner could not be read`;
  if (facts.uid < minUid) return `${facts.path} exists and is owned by a system account (uid ${facts.uid} < ${minUid})`;
  return undefined;
}

/** Whether host-user/delete removes the home with the account, and why not. */
export type HomeDecision = { purge: true } | { purge: false; kept?: { home: string; why: string } };

/**
 * `userdel -r` only for a real directory (not a link) owned by the user itself and strictly below the
 * home root, both resolved on the host: a home elsewhere (`/usr/lib`, `/opt`, a shared data dir) or owned
 * by someone else is kept. Anything unreadable keeps the home.
 */
export function decideHomePurge(stdout: string, account: { user: string; uid: number; home?: string | undefined }, homeRoot: string): HomeDecision {
  const { user, uid } = account;
  const line = stdout.trim();
  if (line === 'none' || line === 'missing') return { purge: false };
  const [kind = '', owner = '', real = '', realRoot = '', ...rest] = line.split('\t');
  const home = rest.join('\t') || account.home || real || '(unknown)';
  const keep = (why: string): HomeDecision => ({ purge: false, kept: { home, why } });
  if (!['link', 'dir', 'other'].includes(kind)) return keep('it could not be checked');
  if (kind === 'link') return keep('it is a symbolic link');
  if (kind === 'other') return keep('it is not a directory');
  if (owner !== String(uid)) return keep(`it is owned by uid ${owner}, not by ${user}`);
  const root = realRoot.startsWith('/') ? normalisePath(realRoot) : '';
  const dir = real.startsWith('/') ? normalisePath(real) : '';
  if (!root || !dir || dir === root || !isWithin(dir, root)) return keep(`it is not below the home root ${homeRoot}`);
  return { purge: true };
}

/**
 * Everything host-user must know of a host before it acts, in ONE job (one salt round trip, like
 * upstream's single script): the user (`uid`, home), the group (`gid`), the home facts (`<link|dir|other>\t<owner uid>\t<realpath -e>\t<realpath of the root>\t<home>`, or
 * `none` / `missing`, what decideHomePurge reads) when
 * a home root is given (delete), and the owner and real location of each path (add). Input on stdin:
 * user, group (may be empty), home root (may be empty), then one path per line.
 */
const FACTS_SCRIPT = `IFS= read -r user; IFS= read -r group; IFS= read -r root
if ent=$(getent passwd "$user"); then
  printf 'user\\t%s\\t%s\\n' "$(printf '%s' "$ent" | cut -d: -f3)" "$(printf '%s' "$ent" | cut -d: -f6)"
else echo 'user\t-'; fi
if [ -n "$group" ]; then
  if ent=$(getent group "$group"); then printf 'group\\t%s\\n' "$(printf '%s' "$ent" | cut -d: -f3)"; else echo 'group\t-'; fi
fi
if [ -n "$root" ]; then
  home=$(getent passwd "$user" | cut -d: -f6)
  if [ -z "$home" ]; then echo 'home\tnone'
  elif [ -L "$home" ]; then kind=link; elif [ -d "$home" ]; then kind=dir; elif [ -e "$home" ]; then kind=other; else echo 'home\tmissing'; kind=; fi
  if [ -n "$home" ] && [ -n "$kind" ]; then
    uid=$(stat -c %u -- "$home" 2>/dev/null) || uid='?'
    real=$(realpath -e -- "$home" 2>/dev/null) || real=
    realroot=$(realpath -m -- "$root" 2>/dev/null) || realroot=
    printf 'home\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$kind" "$uid" "$real" "$realroot" "$home"
  fi
fi
while IFS= read -r p; do
  real=$(realpath -m -- "$p" 2>/dev/null) || real=
  if [ -e "$p" ]; then uid=$(stat -L -c %u -- "$p" 2>/dev/null) || uid='?'; else uid=-; fi
  printf 'path\\t%s\\t%s\\n' "$uid" "$real"
done
`;

/** The one job that gathers FACTS_SCRIPT's facts on a host. */
export const accountFactsCall = (facts: { user: string; group?: string | undefined; homeRoot?: string | undefined; paths?: readonly string[] }) =>
  sh(FACTS_SCRIPT, 'saltstack-account-facts', [facts.user, facts.group ?? '', facts.homeRoot ?? '', ...(facts.paths ?? [])].map((l) => l + '\n').join(''));

/** An account as the host knows it: its id, and for a user its home. */
export interface AccountFacts {
  id: number;
  home?: string;
}

/** FACTS_SCRIPT's answer: undefined accounts when absent; `home` as decideHomePurge reads it; `owners` as parsePathOwners does. */
export interface HostFacts {
  user: AccountFacts | undefined;
  group: AccountFacts | undefined;
  home: string;
  owners: string;
}

/** Reads FACTS_SCRIPT's stdout; throws when the user line is missing or malformed (an unexpected host). */
export function parseAccountFacts(stdout: string): HostFacts {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const field = (prefix: string) => lines.find((l) => l.startsWith(`${prefix}\t`))?.slice(prefix.length + 1);
  const account = (text: string | undefined, what: string): AccountFacts | undefined => {
    if (text === undefined || text === '-') return undefined;
    const [id = '', home] = text.split('\t');
    if (!/^\d+$/.test(id)) throw new Error(`account facts: unreadable ${what} line`);
    return { id: Number(id), ...(home !== undefined && { home }) };
  };
  const userLine = field('user');
  if (userLine === undefined) throw new Error('account facts: no user line');
  return {
    user: account(userLine, 'user'),
    group: account(field('group'), 'group'),
    home: field('home') ?? 'none',
    owners: lines.filter((l) => l.startsWith('path\t')).map((l) => l.slice(5)).join('\n'),
  };
}
