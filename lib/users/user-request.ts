import { InputError } from '../errors.js';
import { absolutePathProblem, accountNameProblem, normalisePath } from '../files/host-path.js';
import { systemTreeProblem } from '../files/system-paths.js';
import { splitList } from '../text/split-list.js';

/** `user` or `user:group` as WeCube sends userName, with userGroup taking precedence (upstream panicked here). */
export function splitUserName(userName: string, userGroup?: string): { user: string; group: string | undefined } {
  const [user = '', inlineGroup] = userName.trim().split(':', 2);
  const group = userGroup?.trim() || inlineGroup?.trim() || undefined;
  const userProblem = accountNameProblem(user);
  if (userProblem) throw new InputError(`Parameter userName validation failed: ${userProblem}`);
  if (group !== undefined) {
    const groupProblem = accountNameProblem(group);
    if (groupProblem) throw new InputError(`Parameter userGroup validation failed: ${groupProblem}`);
  }
  return { user, group };
}

/** A uid/gid: decimal, at least `min`, below 2^31 - 1; undefined when absent. Throws InputError. */
export function parseId(text: string | undefined, field: string, min: number): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim();
  const n = Number(t);
  if (!/^\d{1,10}$/.test(t) || n >= 2 ** 31 - 1) throw new InputError(`Parameter ${field} validation failed: must be a number`);
  if (n < min) throw new InputError(`Parameter ${field} validation failed: ${n} is below ${min} (reserved for system accounts)`);
  return n;
}

/**
 * An absolute path field handed to the user (homeDir, rwDir, rwFile); undefined when absent. Refuses
 * system trees (`/etc/...`, `/opt` itself: system-paths.ts), naming the host when one is given. Throws InputError.
 */
export function parseDir(text: string | undefined, field: string, host?: string): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const problem = absolutePathProblem(text.trim());
  if (problem) throw new InputError(`Parameter ${field} validation failed: ${problem}`);
  const path = normalisePath(text.trim());
  if (path === '/') throw new InputError(`Parameter ${field} validation failed: must not be /`);
  const system = systemTreeProblem(path);
  if (system) throw new InputError(`Parameter ${field} validation failed: ${system}${host ? ` on ${host}` : ''}`);
  return path;
}

/** rwDir / rwFile: a `,`/`|` list of absolute paths (upstream drops `[`, `]` and `&` first). Throws InputError. */
export function parsePathList(text: string | undefined, field: string, host?: string): string[] {
  return [...new Set(splitList(text?.replace(/[[\]&]/g, '')).map((p) => parseDir(p, field, host)!))];
}
