import { randomInt } from 'node:crypto';

export type ArchiveFormat = 'zip' | 'tar' | 'tgz';

const SUFFIXES: ReadonlyArray<readonly [string, ArchiveFormat]> = [
  ['.tar.gz', 'tgz'],
  ['.tgz', 'tgz'],
  ['.zip', 'zip'],
  ['.tar', 'tar'],
];

/** The archive type of a package name, from its suffix (any case), and the suffix as written; undefined if none. */
export function archiveType(name: string): { format: ArchiveFormat; ext: string } | undefined {
  const lower = name.toLowerCase();
  const hit = SUFFIXES.find(([suffix]) => lower.endsWith(suffix) && lower.length > suffix.length);
  return hit && { format: hit[1], ext: name.slice(name.length - hit[0].length) };
}

const MD5_PREFIX = /^[0-9a-f]{32}_/i;
const STAMP_SUFFIX = /_\d{14}_[0-9a-z]{4}$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYYMMDDhhmmss` in local time (UTC on Lambda), as upstream. */
export function timestamp(now: Date): string {
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Four characters of [0-9a-z] from a cryptographic source (upstream's were predictable). */
export function rand4(): string {
  return Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

/**
 * The name of a re-packed package (upstream §8.7): `<md5>_<name>_<YYYYMMDDhhmmss>_<rand4><ext>`. An md5
 * prefix and a `_<timestamp>_<rand4>` suffix left by an earlier run are dropped first, so that
 * re-processing does not stack them. Throws if the name has no archive suffix.
 */
export function repackedName(original: string, parts: { md5: string; now: Date; rand: string }): string {
  const type = archiveType(original);
  if (!type) throw new Error(`${original} has no archive suffix`);
  const base = original
    .slice(0, original.length - type.ext.length)
    .replace(MD5_PREFIX, '')
    .replace(STAMP_SUFFIX, '');
  return `${parts.md5}_${base}_${timestamp(parts.now)}_${parts.rand}${type.ext}`;
}
