import { InputError } from '../errors.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

/** What the guard needs to know of an archive entry. */
export interface GuardedEntry {
  name: string;
  type: EntryType;
  linkname?: string | null | undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0001-\u001f\u007f]/;

/** A name as it can be shown in a message (control characters escaped). */
const printable = (name: string) => JSON.stringify(name).slice(1, -1);

const isAbsolute = (p: string) => p.startsWith('/') || p.startsWith('\\') || /^[a-zA-Z]:/.test(p);

/**
 * A path relative to a package root, normalised (`./a//b/../c/` is `a/c`, the root is ''); undefined
 * when it climbs out of the root. A leading `/` means the root, as in upstream's confFiles.
 */
export function confinePath(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/**
 * Refuses archive entries that would land outside the extraction root (zip-slip), and every entry two
 * readers of the same archive could place differently: absolute names, `..` climbing out, symbolic links
 * pointing out, any path that goes through a symbolic link or a file of the archive (lexical checks cannot
 * see where that leads), a name seen twice (only a directory may be repeated), hard links (the linked file
 * is not in the entry: readers resolve it differently), device files and fifos, control characters in a
 * name. Entries are checked in archive order, before their content is used; `check` returns the normalised
 * path or throws InputError naming the entry.
 */
export class EntryGuard {
  private readonly symlinks = new Set<string>();
  private readonly traversed = new Set<string>();
  private readonly seen = new Map<string, EntryType>();

  constructor(private readonly archive: string) {}

  check(entry: GuardedEntry): string {
    const fail = (why: string): never => {
      throw new InputError(`Failed to unpack file ${this.archive}: entry ${printable(entry.name)} ${why}`);
    };
    if (entry.name.includes('\0')) fail('has a NUL byte in its name');
    if (CONTROL.test(entry.name)) fail('has a control character in its name');
    if (entry.linkname && CONTROL.test(entry.linkname)) fail('has a control character in its link target');
    if (isAbsolute(entry.name)) fail('has an absolute path');
    const path = this.walk([], entry.name, fail);
    if (path === '' && entry.type !== 'directory') fail('has no name');
    switch (entry.type) {
      case 'file':
      case 'directory':
        break;
      case 'symlink': {
        const target = entry.linkname ?? '';
        if (target === '' || isAbsolute(target)) fail(`is a symbolic link pointing outside the package root (${target})`);
        this.walk(path.split('/').slice(0, -1), target, () => fail(`is a symbolic link pointing outside the package root (${target})`));
        if (this.traversed.has(path)) fail('is a symbolic link replacing a directory other entries use');
        this.symlinks.add(path);
        break;
      }
      case 'link':
        fail(`is a hard link (to ${printable(entry.linkname ?? '')}): hard links are refused, pack the file itself`);
        break;
      default:
        fail('is a device file, a fifo or an entry type this reader does not support');
    }
    if (path !== '') {
      const before = this.seen.get(path);
      if (before !== undefined && !(before === 'directory' && entry.type === 'directory')) fail('appears twice in the archive');
      if (entry.type !== 'directory' && this.traversed.has(path)) fail('replaces a directory other entries use');
      this.seen.set(path, entry.type);
    }
    return path;
  }

  /** Resolves `rel` from `start`, refusing to climb out of the root or to go through a known symlink or file. */
  private walk(start: string[], rel: string, fail: (why: string) => never): string {
    const stack = [...start];
    for (const part of rel.split('/')) {
      if (part === '' || part === '.') continue;
      if (stack.length) {
        const dir = stack.join('/');
        if (this.symlinks.has(dir)) fail(`goes through the symbolic link ${dir}`);
        const kind = this.seen.get(dir);
        if (kind !== undefined && kind !== 'directory') fail(`goes through ${dir}, which is not a directory`);
        this.traversed.add(dir);
      }
      if (part === '..') {
        if (!stack.length) fail('escapes the package root');
        stack.pop();
      } else stack.push(part);
    }
    return stack.join('/');
  }
}
