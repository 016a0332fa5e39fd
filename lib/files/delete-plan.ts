import { InputError } from '../errors.js';
import type { StateStep } from '../salt/high-data.js';
import { splitList } from '../text/split-list.js';
import { absolutePathProblem, depthOf, isWithin, nameOf, normalisePath, parentOf } from './host-path.js';
import { systemDeletionProblem } from './system-paths.js';

/** One path to delete: the path itself, or (trailing `/`) only what is inside the directory. */
export interface DeleteEntry {
  path: string;
  contentsOnly: boolean;
}

export interface DeletePlan {
  /** The normalised baseDir every entry must stay in, when given. */
  base: string | undefined;
  entries: DeleteEntry[];
}

const stepId = (entry: DeleteEntry) => `${entry.contentsOnly ? 'empty' : 'delete'} ${entry.path}${entry.contentsOnly ? '/' : ''}`;

/** Without a baseDir, deleting anything less deep than this (`/`, `/etc`, `/data`, or their contents) is refused. */
export const MIN_DEPTH_WITHOUT_BASE = 2;

const illegal = (piece: string, why: string) => new InputError(`Parameter targetPath validation failed: path illegal: ${piece} (${why})`);

/**
 * Upstream's delete list (§7.4): `,`/`|` separated paths, relative to `baseDir` when it is given (a leading
 * `/` dropped). Refuses `..`, `/`, control characters, baseDir itself, without baseDir anything
 * shallower than /a/b, and with or without it the system trees of system-paths.ts (`/etc/...`,
 * `/usr/...`, `/var/lib` itself...): a baseDir is the caller's word too, not a confinement. Throws InputError.
 */
export function planDelete(targetPath: string, baseDir: string | undefined): DeletePlan {
  let base: string | undefined;
  if (baseDir !== undefined && baseDir.trim() !== '') {
    const problem = absolutePathProblem(baseDir.trim());
    if (problem) throw new InputError(`Parameter baseDir validation failed: ${problem}`);
    base = normalisePath(baseDir.trim());
    if (base === '/') throw new InputError('Parameter baseDir validation failed: must not be /');
  }
  const pieces = splitList(targetPath);
  if (!pieces.length) throw new InputError('Parameter targetPath can not empty.');
  const entries = pieces.map((piece): DeleteEntry => {
    const contentsOnly = piece.endsWith('/');
    const raw = base ? `${base}/${piece.replace(/^\//, '')}` : piece;
    const problem = absolutePathProblem(raw);
    if (problem) throw illegal(piece, problem);
    const path = normalisePath(raw);
    if (path === '/') throw illegal(piece, 'is /');
    if (base) {
      if (!isWithin(path, base)) throw illegal(piece, `is outside ${base}`);
      if (path === base && !contentsOnly) throw illegal(piece, 'is baseDir itself');
    } else if (depthOf(path) < MIN_DEPTH_WITHOUT_BASE) {
      throw illegal(piece, `is a top-level directory; give a deeper path or a baseDir`);
    }
    const system = systemDeletionProblem(path);
    if (system) throw illegal(piece, system);
    return { path, contentsOnly };
  });
  const seen = new Set<string>();
  return { base, entries: entries.filter((e) => !seen.has(stepId(e)) && !!seen.add(stepId(e))) };
}

/**
 * The paths whose real location (symbolic links resolved on the host) decides what gets deleted: the
 * baseDir, the parent of each path deleted whole (the link itself is removed, not what it points to),
 * and each directory emptied.
 */
export function pathsToResolve(plan: DeletePlan): string[] {
  return [...(plan.base ? [plan.base] : []), ...plan.entries.map((e) => (e.contentsOnly ? e.path : parentOf(e.path)))];
}

/**
 * The real paths to delete, from `realpath -m` of `pathsToResolve` (same order): a path that leaves baseDir
 * through a symbolic link, lands too high without a baseDir, or lands in a system tree, is refused.
 * Throws InputError.
 */
export function confineResolved(plan: DeletePlan, resolved: readonly string[]): DeleteEntry[] {
  const expected = pathsToResolve(plan).length;
  if (resolved.length !== expected) throw new Error(`realpath gave ${resolved.length} paths for ${expected}`);
  const realBase = plan.base ? resolved[0]! : undefined;
  const offset = plan.base ? 1 : 0;
  return plan.entries.map((entry, i) => {
    const real = resolved[i + offset]!;
    const path = entry.contentsOnly ? real : normalisePath(`${real}/${nameOf(entry.path)}`);
    const shown = entry.path + (entry.contentsOnly ? '/' : '');
    if (realBase) {
      if (!isWithin(path, realBase) || (path === realBase && !entry.contentsOnly)) {
        throw illegal(shown, `resolves to ${path}, outside ${plan.base} (a symbolic link)`);
      }
    } else if (depthOf(path) < MIN_DEPTH_WITHOUT_BASE || path === '/') {
      throw illegal(shown, `resolves to ${path} (a symbolic link)`);
    }
    const system = systemDeletionProblem(path);
    if (system) throw illegal(shown, `goes through a symbolic link: ${system}`);
    return { path, contentsOnly: entry.contentsOnly };
  });
}

/**
 * The states of one delete: each path removed (`file.absent`; a symbolic link itself, not its target), or
 * a directory emptied (`file.directory clean`, only if it exists), in order, stopping at the first failure.
 */
export function deleteSteps(entries: readonly DeleteEntry[]): StateStep[] {
  return entries.map((entry, i) => {
    const id = stepId(entry);
    const require = i > 0 ? [stepId(entries[i - 1]!)] : undefined;
    if (!entry.contentsOnly) return { id, state: 'file.absent', args: { name: entry.path }, ...(require && { require }) };
    return {
      id,
      state: 'file.directory',
      args: { name: entry.path, clean: true, onlyif: [{ fun: 'file.directory_exists', path: entry.path }] },
      ...(require && { require }),
    };
  });
}
