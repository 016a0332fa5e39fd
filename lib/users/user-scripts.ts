/**
 * host-user's host side: each operation is ONE salt job on a host (one round trip, as upstream's single
 * script), a constant bash script that checks the host, refuses or acts, and says what it did. Every
 * value from a request (names, ids, paths, the password hash) arrives on stdin, one per line (host paths
 * and account names never hold a newline or a tab: host-path.ts, user-request.ts), so nothing from a
 * request is ever part of a command line; the hash reaches no process's argv (printf is a builtin).
 *
 * The checks are the host's to make, on what the host really has; the texts are this module's
 * (readAnswer): a script answers with one tab-separated line, `refuse\t<what>...` (exit 3, nothing
 * changed), `failed\t<step>` (exit 4, salt's stderr says why) or `done\t...`.
 */
import { SYSTEM_DIRS } from '../files/system-paths.js';
import { GUARD_PATH_FUNCTION } from '../salt/write-guard.js';

/** Runs a constant bash script as an argv call (no shell of salt's), its values on stdin. */
const bash = (script: string, name: string, lines: readonly string[], timeout = 60) => ({
  fun: 'cmd.run_all',
  arg: [['/bin/bash', '-c', script, name]],
  kwarg: { stdin: lines.map((l) => l + '\n').join(''), python_shell: false, timeout },
});

/** Unescapes `\$` (String.raw keeps `\${...}` literal so that bash, not JavaScript, expands it). */
const raw = (strings: TemplateStringsArray, ...values: string[]) => String.raw(strings, ...values).replace(/\\\$/g, '$');

const COMMON = raw`refuse() { local IFS=$'\t'; printf 'refuse\t%s\n' "$*"; exit 3; }
failed() { printf 'failed\t%s\n' "$current"; exit 4; }
`;

/**
 * `sys_problem <real path>`: the system-tree rule of system-paths.ts (systemTreeProblem) read from the
 * table on stdin (`sys_kind`/`sys_path`): the deepest entry that is the path or contains it; the path is
 * that entry itself (`dir\t<entry>`) or below a `tree` entry (`under\t<entry>`). Sets `problem`, returns
 * 0 when there is one. Checked against the TypeScript rule by test/unit/users/user-scripts.test.ts.
 */
export const SYS_PROBLEM_FUNCTION = raw`sys_problem() {
  local p=$1 best= kind= i e
  for i in "\${!sys_path[@]}"; do
    e=\${sys_path[i]}
    if [ "$e" = / ] || [ "$p" = "$e" ] || [[ $p == "$e"/* ]]; then
      if [ \${#e} -gt \${#best} ]; then best=$e kind=\${sys_kind[i]}; fi
    fi
  done
  [ -n "$best" ] || return 1
  if [ "$p" = "$best" ]; then problem=$'dir\t'$best; return 0; fi
  if [ "$kind" = tree ]; then problem=$'under\t'$best; return 0; fi
  return 1
}
`;

/** The system-tree table as the scripts read it: `sys\t<tree|itself>\t<path>` lines. */
export const systemTableLines = (): string[] => SYSTEM_DIRS.map((d) => `sys\t${d.kind}\t${d.path}`);

/**
 * `make_dirs <path> <mode> <owner>`: every missing directory on the way to path (path included) made
 * with mode and handed to owner, as salt's file.directory makedirs does; existing ones are left as they
 * are (a dangling link on the way makes the next mkdir fail).
 */
const MAKE_DIRS_FUNCTION = raw`make_dirs() {
  local cur= rest=\${1#/} part
  while [ -n "$rest" ]; do
    part=\${rest%%/*}
    if [ "$part" = "$rest" ]; then rest=; else rest=\${rest#*/}; fi
    [ -n "$part" ] || continue
    cur=$cur/$part
    if [ ! -e "$cur" ] && [ ! -L "$cur" ]; then
      mkdir -m "$2" -- "$cur" && chown -h -- "$3" "$cur" || return 1
    fi
  done
}
`;

/**
 * host-user/add. Stdin: minimum uid, user, group, uid, gid, home, password mode (`given`: set it;
 * `generated`: only for a new user), hash, then `sys` table lines and `rwDir\t<path>` / `rwFile\t<path>`
 * lines. Refuses (nothing changed): an existing user or group below the minimum uid; an rw path that
 * exists and belongs to a system account, that leads into a system tree through a link, or that cannot be
 * resolved; a non-root symbolic link on the way to the home or an rw path (the write guard). Then: the
 * group (gid only when it is new), the user (new: `useradd -m`, the group its primary group; existing:
 * uid, home and the group added as a supplementary one, other groups kept), the password (`chpasswd -e`),
 * rw directories and files owned by the user, links never followed. A group made by this run is removed
 * again when the user cannot be created.
 */
const ADD_SCRIPT = raw`${COMMON}${GUARD_PATH_FUNCTION}${SYS_PROBLEM_FUNCTION}${MAKE_DIRS_FUNCTION}
IFS= read -r min; IFS= read -r user; IFS= read -r group; IFS= read -r uid; IFS= read -r gid
IFS= read -r home; IFS= read -r pwmode; IFS= read -r hash
sys_kind=() sys_path=() rw_field=() rw_path=()
while IFS=$'\t' read -r kind a b; do
  case $kind in
    sys) sys_kind+=("$a"); sys_path+=("$b") ;;
    rwDir|rwFile) rw_field+=("$kind"); rw_path+=("$a") ;;
  esac
done

exists=0
if ent=$(getent passwd "$user"); then
  exists=1
  IFS=: read -r _ _ cur_uid _ _ cur_home _ <<<"$ent"
  [ "$cur_uid" -ge "$min" ] 2>/dev/null || refuse system user "$cur_uid"
fi
gexists=0
if [ -n "$group" ] && ent=$(getent group "$group"); then
  gexists=1
  IFS=: read -r _ _ cur_gid _ <<<"$ent"
  [ "$cur_gid" -ge "$min" ] 2>/dev/null || refuse system group "$cur_gid"
fi
for i in "\${!rw_path[@]}"; do
  f=\${rw_field[i]} p=\${rw_path[i]}
  real=$(realpath -m -- "$p" 2>/dev/null) && [[ $real == /* ]] || refuse unresolved "$f" "$p"
  if [ "$real" != "$p" ] && sys_problem "$real"; then refuse tree "$f" "$p" "$real" "$problem"; fi
  if [ -e "$p" ]; then
    owner=$(stat -L -c %u -- "$p" 2>/dev/null) || refuse unreadable "$f" "$p"
    [ "$owner" -ge "$min" ] 2>/dev/null || refuse owner "$f" "$p" "$owner"
  fi
done
for p in \${home:+"$home"} "\${rw_path[@]}"; do
  guard_path "$p" || refuse link "$refusal"
done

owner_spec=$user\${group:+:$group}
created_group=0
if [ -n "$group" ] && [ $gexists = 0 ]; then
  current="group $group"
  args=(); [ -n "$gid" ] && args=(-g "$gid")
  groupadd "\${args[@]}" -- "$group" || failed
  created_group=1
fi
current="user $user"
if [ $exists = 0 ]; then
  args=(-m); [ -n "$uid" ] && args+=(-u "$uid"); [ -n "$home" ] && args+=(-d "$home"); [ -n "$group" ] && args+=(-g "$group")
  if ! useradd "\${args[@]}" -- "$user"; then
    [ $created_group = 1 ] && groupdel -- "$group" >/dev/null 2>&1
    failed
  fi
else
  if [ -n "$uid" ] && [ "$uid" != "$cur_uid" ]; then usermod -u "$uid" -- "$user" || failed; fi
  if [ -n "$home" ] && [ "$home" != "$cur_home" ]; then usermod -d "$home" -- "$user" || failed; fi
  want_home=\${home:-$cur_home}
  if [ -n "$want_home" ] && [ ! -d "$want_home" ]; then make_dirs "$want_home" 0755 "$user:" || failed; fi
  if [ -n "$group" ] && ! id -nG -- "$user" | tr ' ' '\n' | grep -qxF -- "$group"; then
    usermod -a -G "$group" -- "$user" || failed
  fi
fi
pw=0
if [ -n "$hash" ] && { [ "$pwmode" = given ] || [ $exists = 0 ]; }; then
  current="password $user"
  printf '%s:%s\n' "$user" "$hash" | chpasswd -e || failed
  pw=1
fi
for i in "\${!rw_path[@]}"; do
  f=\${rw_field[i]} p=\${rw_path[i]}
  current="$f $p"
  if [ $f = rwDir ]; then
    if [ -e "$p" ] && [ ! -d "$p" ]; then echo "$p exists and is not a directory" >&2; failed; fi
    make_dirs "$p" 0755 "$owner_spec" || failed
    chown -h -- "$owner_spec" "$p" || failed
    [ -L "$p" ] || chmod 0755 -- "$p" || failed
  else
    make_dirs "\${p%/*}" 0755 "$owner_spec" || failed
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then (set -C; : >"$p") || failed; fi
    if [ -d "$p" ]; then echo "$p exists and is a directory" >&2; failed; fi
    chown -h -- "$owner_spec" "$p" || failed
    [ -L "$p" ] || chmod 0644 -- "$p" || failed
  fi
done
if [ $exists = 0 ]; then what=created; else what=updated; fi
printf 'done\t%s\t%s\n' "$what" "$pw"
`;

/** What host-user/add does on one host. */
export interface UserPlan {
  user: string;
  group: string | undefined;
  uid: number | undefined;
  /** Only for a group that does not exist yet: an existing group's gid is never changed. */
  gid: number | undefined;
  home: string | undefined;
  /** SHA-512 crypt hash; undefined leaves the password as it is. */
  passwordHash: string | undefined;
  /** The caller gave the password (set it on an existing user too); a generated one is set only on a new user. */
  passwordGiven: boolean;
  /** The rw paths, each with the field it came from (no path twice). */
  rwPaths: ReadonlyArray<{ field: 'rwDir' | 'rwFile'; path: string }>;
}

/** The one job of host-user/add on a host. */
export const addUserCall = (plan: UserPlan, minUid: number) =>
  bash(ADD_SCRIPT, 'saltstack-user-add', [
    String(minUid),
    plan.user,
    plan.group ?? '',
    plan.uid === undefined ? '' : String(plan.uid),
    plan.gid === undefined ? '' : String(plan.gid),
    plan.home ?? '',
    plan.passwordGiven ? 'given' : 'generated',
    plan.passwordHash ?? '',
    ...systemTableLines(),
    ...plan.rwPaths.map((p) => `${p.field}\t${p.path}`),
  ]);

/**
 * host-user/password. Stdin: minimum uid, user, then `user:hash` for chpasswd. Refuses a missing user
 * (`refuse\tmissing`) and a system account; `chpasswd -e` takes the hash on stdin and the shadow lock
 * (salt's shadow.set_password rewrites /etc/shadow without it, so a concurrent useradd could undo it).
 */
const PASSWORD_SCRIPT = raw`${COMMON}
IFS= read -r min; IFS= read -r user
ent=$(getent passwd "$user") || refuse missing
IFS=: read -r _ _ cur_uid _ <<<"$ent"
[ "$cur_uid" -ge "$min" ] 2>/dev/null || refuse system user "$cur_uid"
current="password $user"
chpasswd -e || failed
printf 'done\n'
`;

/** The one job of host-user/password on a host. */
export const setPasswordCall = (user: string, hash: string, minUid: number) =>
  bash(PASSWORD_SCRIPT, 'saltstack-user-password', [String(minUid), user, `${user}:${hash}`], 30);

/**
 * `home_decision <home> <uid> <root>`: whether `userdel -r` may remove a home: only a real directory (not
 * a link) owned by the user itself and strictly below the home root, both resolved on the host. Sets
 * `why` (empty: purge; `none`/`missing`: nothing to keep; `link`, `notdir`, `owner\t<uid>`, `outside`).
 */
export const HOME_DECISION_FUNCTION = raw`home_decision() {
  local home=$1 uid=$2 root=$3 owner real realroot
  why=
  if [ -z "$home" ]; then why=none
  elif [ -L "$home" ]; then why=link
  elif [ -d "$home" ]; then
    owner=$(stat -c %u -- "$home" 2>/dev/null) || owner='?'
    real=$(realpath -e -- "$home" 2>/dev/null) || real=
    realroot=$(realpath -m -- "$root" 2>/dev/null) || realroot=
    if [ "$owner" != "$uid" ]; then why=$'owner\t'$owner
    elif [[ $real != /* || $realroot != /* || $real != "\${realroot%/}"/?* ]]; then why=outside
    fi
  elif [ -e "$home" ]; then why=notdir
  else why=missing
  fi
}
`;

/**
 * host-user/delete. Stdin: minimum uid, user, home root. An absent user answers `absent` (a success);
 * a system account is refused; otherwise `userdel -f` (with `-r` only when home_decision allows it) and
 * `done\t<purged 0|1>\t<why kept>\t<home>`.
 */
const DELETE_SCRIPT = raw`${COMMON}${HOME_DECISION_FUNCTION}
IFS= read -r min; IFS= read -r user; IFS= read -r root
ent=$(getent passwd "$user") || { printf 'absent\n'; exit 0; }
IFS=: read -r _ _ cur_uid _ _ home _ <<<"$ent"
[ "$cur_uid" -ge "$min" ] 2>/dev/null || refuse system user "$cur_uid"
home_decision "$home" "$cur_uid" "$root"
current="user $user"
if [ -z "$why" ]; then userdel -f -r -- "$user" || failed; purged=1; else userdel -f -- "$user" || failed; purged=0; fi
printf 'done\t%s\t%s\t%s\n' "$purged" "$why" "$home"
`;

/** The one job of host-user/delete on a host. */
export const deleteUserCall = (user: string, homeRoot: string, minUid: number) =>
  bash(DELETE_SCRIPT, 'saltstack-user-delete', [String(minUid), user, homeRoot]);

/** A script's answer: its first `refuse`, `failed`, `done` or `absent` line, split at tabs; undefined when there is none. */
export function readAnswer(stdout: string): { kind: 'refuse' | 'failed' | 'done' | 'absent'; fields: string[] } | undefined {
  for (const line of stdout.split('\n')) {
    const [kind, ...fields] = line.split('\t');
    if (kind === 'refuse' || kind === 'failed' || kind === 'done' || kind === 'absent') return { kind, fields };
  }
  return undefined;
}
