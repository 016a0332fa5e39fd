/**
 * The system trees of a Linux host: places that host-user must never hand to an application user, that
 * a data disk must never be mounted on, and that host-file/delete must never remove. One table, so that
 * the three operations cannot drift apart. Paths compare lexically after normalisation (Linux names are
 * case-sensitive: `/ETC` and `/etcetera` are not `/etc`); symbolic links are the host-side checks' job.
 */
import { absolutePathProblem, isWithin, normalisePath } from './host-path.js';

/**
 * - `tree`: the directory and everything below it belong to the system (handing any of it to an app
 *   user, or mounting over it, can change who is root).
 * - `itself`: only the directory itself is the system's; new entries below it are the usual home of
 *   applications (`/opt/app`, `/home/app`, `/tmp/x`, `/var/log/app`). Existing entries below are still
 *   protected on the host by their owner (see host-user's ownership check).
 * - `deleteBelow`: host-file/delete refuses everything below it too (the OS itself lives there); under
 *   the other trees a deeper path (`/var/lib/app/cache`) may be deleted, the tree itself never.
 */
interface SystemDir {
  path: string;
  kind: 'tree' | 'itself';
  deleteBelow?: true;
}

export const SYSTEM_DIRS: readonly SystemDir[] = [
  { path: '/', kind: 'itself' },
  // The OS, its configuration (salt's own /etc/salt included), boot files and root's home.
  { path: '/etc', kind: 'tree', deleteBelow: true },
  { path: '/usr', kind: 'tree', deleteBelow: true },
  { path: '/bin', kind: 'tree', deleteBelow: true },
  { path: '/sbin', kind: 'tree', deleteBelow: true },
  { path: '/lib', kind: 'tree', deleteBelow: true },
  { path: '/lib32', kind: 'tree', deleteBelow: true },
  { path: '/lib64', kind: 'tree', deleteBelow: true },
  { path: '/libx32', kind: 'tree', deleteBelow: true },
  { path: '/boot', kind: 'tree', deleteBelow: true },
  { path: '/root', kind: 'tree', deleteBelow: true },
  // Kernel and runtime file systems.
  { path: '/proc', kind: 'tree', deleteBelow: true },
  { path: '/sys', kind: 'tree', deleteBelow: true },
  { path: '/dev', kind: 'tree', deleteBelow: true },
  { path: '/run', kind: 'tree' },
  { path: '/var/run', kind: 'tree' },
  { path: '/var/lock', kind: 'tree' },
  // State of system services (databases, package managers, cron and mail spools, shadow backups).
  { path: '/var/lib', kind: 'tree' },
  { path: '/var/spool', kind: 'tree' },
  { path: '/var/mail', kind: 'tree' },
  { path: '/var/backups', kind: 'tree' },
  { path: '/var/db', kind: 'tree' },
  { path: '/lost+found', kind: 'tree' },
  { path: '/snap', kind: 'tree' },
  // Salt's own trees: whoever writes there runs code as root on every minion.
  { path: '/srv/salt', kind: 'tree', deleteBelow: true },
  { path: '/srv/pillar', kind: 'tree', deleteBelow: true },
  { path: '/var/cache/salt', kind: 'tree', deleteBelow: true },
  // Shared parents: the directory is the system's, new entries below are the applications'.
  { path: '/home', kind: 'itself' },
  { path: '/opt', kind: 'itself' },
  { path: '/srv', kind: 'itself' },
  { path: '/tmp', kind: 'itself' },
  { path: '/mnt', kind: 'itself' },
  { path: '/media', kind: 'itself' },
  { path: '/var', kind: 'itself' },
  { path: '/var/tmp', kind: 'itself' },
  { path: '/var/cache', kind: 'itself' },
  { path: '/var/opt', kind: 'itself' },
  // Log files of the system are refused by their owner (root, syslog); a new /var/log/<app> is the usual
  // place of an application's logs, so only the directory itself is refused.
  { path: '/var/log', kind: 'itself' },
];

/** The deepest table entry that is `path` or contains it. */
function containing(path: string): SystemDir | undefined {
  let best: SystemDir | undefined;
  for (const dir of SYSTEM_DIRS) {
    if (isWithin(path, dir.path) && (!best || dir.path.length > best.path.length)) best = dir;
  }
  return best;
}

/** Normalises `path` or says why it is not an absolute host path. */
function normalised(path: string): { path: string } | { problem: string } {
  const problem = absolutePathProblem(path);
  return problem ? { problem } : { path: normalisePath(path) };
}

/**
 * Why `path` may not be handed to an application user nor mounted over: `<path> is under the system tree
 * /etc`, `/opt is a system directory`; undefined when it may. The message starts with the
 * normalised path, for `Parameter <field> validation failed: <message>`.
 */
export function systemTreeProblem(path: string): string | undefined {
  const n = normalised(path);
  if ('problem' in n) return n.problem;
  const dir = containing(n.path);
  if (!dir) return undefined;
  if (n.path === dir.path) return `${n.path} is a system directory`;
  if (dir.kind === 'tree') return `${n.path} is under the system tree ${dir.path}`;
  // Below an `itself` entry there may be a deeper tree entry (`/var/lib` below `/var`): containing() took it.
  return undefined;
}

/**
 * Why `path` may not be deleted (a system directory itself, or anything below a tree the OS lives in);
 * undefined when it may. Top-level directories are refused by host-file/delete's own depth rule too.
 */
export function systemDeletionProblem(path: string): string | undefined {
  const n = normalised(path);
  if ('problem' in n) return n.problem;
  const exact = SYSTEM_DIRS.find((d) => d.path === n.path);
  if (exact) return `${n.path} is a system directory`;
  const below = SYSTEM_DIRS.find((d) => d.deleteBelow && isWithin(n.path, d.path));
  return below && `${n.path} is under the system tree ${below.path}`;
}
