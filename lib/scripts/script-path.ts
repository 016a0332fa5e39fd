// Characters allowed in paths: letters and digits of any script, and _ . / @ % + = : , ~ - and space.
const PATH_CHARS = /^[\p{L}\p{N}_./@%+=:,~ -]+$/u;

/** Why a path is refused, or undefined when it is acceptable (absolute, allow-listed characters, no `..`). */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (!PATH_CHARS.test(path)) return 'may only contain letters, digits, spaces and _ . / @ % + = : , ~ -';
  if (path.split('/').includes('..')) return 'must not contain ..';
  if (path.length > 4096) return 'is too long';
  return undefined;
}
