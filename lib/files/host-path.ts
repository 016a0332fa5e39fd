/**
 * Paths on a host, checked before anything runs there. They reach salt as structured arguments (never
 * through a shell), so `;`, `$(...)`, quotes and spaces are literal characters of a file name; what is
 * refused is what could change which file is meant: `..`, control characters (newlines, NUL), relative paths.
 */

export const MAX_PATH_LENGTH = 4096;

/** A normalised absolute path (`//` and `/./` collapsed, no trailing `/` except for `/` itself), or why not. */
export function absolutePathProblem(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character (newline, tab, NUL...)';
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.split('/').includes('..')) return 'must not contain ..';
  return undefined;
}

/** Collapses `//` and `/./`, drops a trailing `/`; the input must have passed absolutePathProblem. */
export function normalisePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

/** The directory part of a normalised path (`/` for a top-level entry). */
export const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

/** The last segment of a normalised path. */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** Number of segments of a normalised path (`/` is 0, `/data` is 1, `/data/app` is 2). */
export const depthOf = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);

/** Whether `path` is `dir` itself or below it (both normalised). */
export const isWithin = (path: string, dir: string): boolean => dir === '/' || path === dir || path.startsWith(dir + '/');

/**
 * Where a copied object lands: a `destinationPath` ending in `/` is a directory and the object's file
 * name is appended (upstream §7.1); otherwise it is the full file path.
 */
export function destinationFile(destinationPath: string, objectName: string): string {
  return destinationPath.endsWith('/') ? destinationPath + objectName : destinationPath;
}

const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** A Linux user or group name that every useradd accepts (no shell or path characters); why not otherwise. */
export function accountNameProblem(name: string): string | undefined {
  if (ACCOUNT_NAME.test(name) && name !== '.' && name !== '..') return undefined;
  return 'must be 1-32 characters of letters, digits, _ . - and start with a letter or _';
}

/** `user` or `user:group` (a missing group means the user's name, as upstream's chown did). */
export interface Owner {
  user: string;
  group: string | undefined;
}

/** Parses `user[:group]`; returns the owner or the problem. */
export function parseOwner(text: string): Owner | string {
  const [user = '', group, ...rest] = text.trim().split(':');
  if (rest.length) return 'must be user or user:group';
  const userProblem = accountNameProblem(user);
  if (userProblem) return `user ${userProblem}`;
  if (group !== undefined && group !== '') {
    const groupProblem = accountNameProblem(group);
    if (groupProblem) return `group ${groupProblem}`;
  }
  return { user, group: group || undefined };
}

/** A permission mode as 3 or 4 octal digits (`644`, `0755`), normalised to 4 digits; undefined if invalid. */
export function parseMode(text: string): string | undefined {
  const t = text.trim();
  return /^[0-7]{3,4}$/.test(t) ? t.padStart(4, '0') : undefined;
}
