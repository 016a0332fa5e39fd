import { InputError } from '../errors.js';

const hasGlob = (pattern: string) => /[*?]/.test(pattern);

/** `*` and `?` as the shell's `ls <dir>/<pattern>` read them: neither crosses a `/`. */
function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

const normalise = (path: string) => path.replace(/^(\.\/)+/, '').replace(/^\/+/, '');

/** True if an archive path is named by a `sql_files` entry (a glob or a plain name). */
export function matchesSqlFile(pattern: string, path: string): boolean {
  const p = normalise(pattern);
  return hasGlob(p) ? globToRegExp(p).test(normalise(path)) : p === normalise(path);
}

/**
 * Picks the files to run from an archive's entries, in `sql_files` order (upstream §10.1 step 4): a
 * pattern with `*`/`?` takes every matching file in byte order (as `ls | sort`), a plain name must exist.
 * A file named twice runs once, at its first place. Throws InputError with upstream's texts.
 */
export function selectSqlFiles(entries: string[], patterns: string[]): string[] {
  const files = entries.map(normalise);
  const chosen: string[] = [];
  for (const raw of patterns) {
    const pattern = normalise(raw);
    if (pattern.split('/').includes('..')) {
      throw new InputError(`Parameter sql_files validation failed: ${raw} leaves the archive`);
    }
    let matches: string[];
    if (hasGlob(pattern)) {
      const re = globToRegExp(pattern);
      matches = files.filter((f) => re.test(f)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (matches.length === 0) throw new InputError(`Try to find ${raw} sql file fail,can not fetch any file`);
    } else {
      if (!files.includes(pattern)) throw new InputError(`File ${raw} does not exist.`);
      matches = [pattern];
    }
    for (const m of matches) if (!chosen.includes(m)) chosen.push(m);
  }
  return chosen;
}
