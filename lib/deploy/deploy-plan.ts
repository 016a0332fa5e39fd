import { InputError } from '../errors.js';
import { absolutePathProblem, accountNameProblem, normalisePath } from '../files/host-path.js';
import { pathProblem } from '../scripts/script-path.js';
import { shellJoin, shellWords } from '../scripts/shell-quote.js';
import { splitList } from '../text/split-list.js';

/** The application user and its group (`user:group`; a bare user is its own group, as upstream). */
export interface AppUser {
  user: string;
  group: string;
}

/** Parses `userName` (`user` or `user:group`); throws InputError naming the field. */
export function parseAppUser(userName: string): AppUser {
  const [user = '', group, ...rest] = userName.trim().split(':');
  if (rest.length) throw new InputError('Parameter userName validation failed: must be user or user:group');
  const problem = accountNameProblem(user) ?? (group ? accountNameProblem(group) : undefined);
  if (problem) throw new InputError(`Parameter userName validation failed: ${problem}`);
  return { user, group: group || user };
}

/** Where the application lives on its hosts: the install directory and its snapshot next to it. */
export interface InstallDir {
  /** As the caller gave it, with a trailing `/` (upstream's scripts and copy join onto it). */
  given: string;
  /** Normalised, no trailing `/`. */
  path: string;
  /** The previous install is kept here (hard links) until the new one is up: `<path>.saltstack-previous`. */
  snapshot: string;
}

/** Minimum depth of an install directory: `/srv/app`, never `/` or `/srv` (a restore replaces the whole directory). */
const MIN_DEPTH = 2;

/**
 * Parses `destinationPath`; throws InputError naming the field. The start/stop scripts live under it and
 * run through host-script/run-local, so it must pass that operation's path allow-list (no shell
 * characters), and hold no `,` or `|` (they separate the scripts of a list): a path that would fail there
 * is refused here, before anything runs on a host.
 */
export function parseInstallDir(destinationPath: string, field = 'destinationPath'): InstallDir {
  const text = destinationPath.trim();
  const problem = absolutePathProblem(text) ?? pathProblem(text) ?? (/[,|]/.test(text) ? 'must not contain , or | (they separate script paths)' : undefined);
  if (problem) throw new InputError(`Parameter ${field} validation failed: ${problem}`);
  const path = normalisePath(text);
  if (path.split('/').length - 1 < MIN_DEPTH) {
    throw new InputError(`Parameter ${field} validation failed: ${path} is too close to / (an install directory is at least /<dir>/<app>)`);
  }
  return { given: `${path}/`, path, snapshot: `${path}.saltstack-previous` };
}

/**
 * Upstream's script paths (§16.4 step 2): a `startScript` that does not start with destinationPath is a
 * `,`/`|` list of paths relative to it (one leading `/` dropped); one that does is taken as it is. Each
 * piece may carry arguments after the path (shell-quoted, never evaluated). Unlike upstream, the result
 * is checked (every script stays inside the install directory, allow-listed characters) and returned as
 * host-script/run-local's `endpoint`: the pieces `,`-joined, each path and argument shell-quoted, so a
 * space in the install directory stays part of the path.
 */
export function scriptPaths(script: string, dir: InstallDir, field: string): string {
  const text = script.trim();
  const prefixed = text.startsWith(dir.given);
  const pieces = splitList(text);
  if (!pieces.length) throw new InputError(`Parameter ${field} can not empty.`);
  return pieces
    .map((piece) => {
      // The install directory part is taken as it is (it may hold spaces); what follows is a command line.
      const [head, rest] = !prefixed
        ? [dir.given, piece.startsWith('/') ? piece.slice(1) : piece]
        : piece.startsWith(dir.given)
          ? [dir.given, piece.slice(dir.given.length)]
          : ['', piece];
      const words = shellWords(rest);
      if (typeof words === 'string') throw new InputError(`Parameter ${field} validation failed: ${piece}: ${words}`);
      const [name = '', ...args] = words;
      const path = head + name;
      const problem = absolutePathProblem(path) ?? pathProblem(path);
      if (problem) throw new InputError(`Parameter ${field} validation failed: ${piece} ${problem}`);
      const normal = normalisePath(path);
      if (!normal.startsWith(`${dir.path}/`) || path.endsWith('/')) {
        throw new InputError(`Parameter ${field} validation failed: ${piece} is not a script inside ${dir.path}`);
      }
      return shellJoin([normal, ...args]);
    })
    .join(',');
}

/**
 * `clearPath` (update): paths inside the install directory to delete before the new package is unpacked,
 * relative to it (a leading `/` or the directory itself in front is accepted); a trailing `/` empties a
 * directory and keeps it. Returns the relative paths, each checked: no `..`, not the directory itself.
 */
export function clearPaths(clearPath: string | undefined, dir: InstallDir): string[] {
  return splitList(clearPath).map((piece) => {
    let rel = piece.startsWith(`${dir.path}/`) ? piece.slice(dir.path.length + 1) : piece.replace(/^\/+/, '');
    const contentsOnly = rel.endsWith('/');
    rel = rel.replace(/\/+$/, '');
    const problem = absolutePathProblem(`/${rel}`);
    if (problem) throw new InputError(`Parameter clearPath validation failed: ${piece} ${problem}`);
    const normal = normalisePath(`/${rel}`).slice(1);
    if (!normal && !contentsOnly) throw new InputError(`Parameter clearPath validation failed: ${piece} names the install directory itself`);
    return contentsOnly ? `${normal}/` : normal;
  });
}

/** The sign file's destination (§16.4 step 6): absolute, or relative to the install directory; never / itself. */
export function signFilePath(signFileDst: string, dir: InstallDir): string {
  const text = signFileDst.trim();
  const path = text.startsWith('/') ? text : `${dir.given}${text}`;
  const problem = absolutePathProblem(path);
  if (problem) throw new InputError(`Parameter signFileDst validation failed: ${problem}`);
  const normal = normalisePath(path);
  const parent = normal.slice(0, normal.lastIndexOf('/'));
  if (parent === '' || parent === '/') throw new InputError(`SignFileDst:${signFileDst} illegal`);
  return normal;
}
