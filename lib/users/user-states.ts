import type { StateStep } from '../salt/high-data.js';
import { writeGuardStep } from '../salt/write-guard.js';

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
  /** The user exists already: the group becomes a supplementary group, the primary group stays. */
  exists: boolean;
  rwDirs: string[];
  rwFiles: string[];
}

/**
 * The states of host-user/add, one `state.high` job: the write guard (no symbolic link planted by a
 * non-root user on the way to the home or an rw path), the group (created if missing), the user
 * (created, or updated: uid, home, group membership, password when given; other groups kept), then
 * rwDir directories and rwFile files owned by the user, never following a link. Every state requires the
 * guard, so a refused path changes nothing. The password reaches the host only as its hash.
 */
export function addUserSteps(plan: UserPlan): StateStep[] {
  const steps: StateStep[] = [];
  const guard = writeGuardStep([...(plan.home ? [plan.home] : []), ...plan.rwDirs, ...plan.rwFiles]);
  if (guard) steps.push(guard);
  const after = (...ids: string[]) => {
    const all = [...(guard ? [guard.id] : []), ...ids];
    return all.length ? { require: all } : {};
  };
  if (plan.group) steps.push({ id: `group ${plan.group}`, state: 'group.present', args: { name: plan.group, gid: plan.gid }, ...after() });
  const userId = `user ${plan.user}`;
  steps.push({
    id: userId,
    state: 'user.present',
    args: {
      name: plan.user,
      uid: plan.uid,
      ...(plan.group && (plan.exists ? { groups: [plan.group] } : { gid: plan.group })),
      remove_groups: false,
      home: plan.home,
      createhome: true,
    },
    ...after(...(plan.group ? [`group ${plan.group}`] : [])),
  });
  if (plan.passwordHash) {
    // cmd.run state: a constant command line, the hash on stdin (the state sets python_shell itself).
    steps.push({
      id: `password ${plan.user}`,
      state: 'cmd.run',
      args: { name: CHPASSWD.join(' '), stdin: chpasswdInput(plan.user, plan.passwordHash), timeout: 30 },
      require: [userId],
    });
  }
  const owner = { user: plan.user, group: plan.group };
  for (const dir of plan.rwDirs) {
    steps.push({
      id: `rwDir ${dir}`,
      state: 'file.directory',
      args: { name: dir, makedirs: true, ...owner, dir_mode: '0755', follow_symlinks: false },
      ...after(userId),
    });
  }
  for (const file of plan.rwFiles) {
    steps.push({
      id: `rwFile ${file}`,
      state: 'file.managed',
      args: { name: file, replace: false, makedirs: true, ...owner, mode: '0644', follow_symlinks: false },
      ...after(userId),
    });
  }
  return steps;
}

/**
 * Passwords are set from their crypt hash with `chpasswd -e`: the hash travels on stdin (in no argv on
 * the host) and chpasswd takes the shadow lock. Salt's shadow.set_password (and user.present's
 * `password`) rewrite /etc/shadow without that lock, so a concurrent useradd/usermod on the host can
 * silently undo the change.
 */
export const CHPASSWD = ['chpasswd', '-e'] as const;
export const chpasswdInput = (user: string, hash: string): string => `${user}:${hash}\n`;

/** The execution-module call that sets one user's password from its hash. */
export function setPasswordCall(user: string, hash: string) {
  return { fun: 'cmd.run_all', arg: [[...CHPASSWD]], kwarg: { stdin: chpasswdInput(user, hash), python_shell: false, timeout: 30 } };
}

/**
 * host-user/delete: the account, with its home and mail spool (`userdel -rf`) only when `purgeHome`. A
 * plain argv call rather than salt's user.absent state: the same userdel, without a state run's cost
 * (one salt round trip of about half the time), so that the whole delete is two quick calls.
 */
export function deleteUserCall(user: string, purgeHome: boolean) {
  return { fun: 'cmd.run_all', arg: [['userdel', '-f', ...(purgeHome ? ['-r'] : []), '--', user]], kwarg: { python_shell: false, timeout: 60 } };
}
