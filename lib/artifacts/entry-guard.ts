import { InputError } from '../errors.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

/** What the guard needs to know of an archive entry. */
export interface GuardedEntry {
  name: string;
  type: EntryType;
  linkname?: string | null | undefined;
}

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
 * Refuses archive entries that would land outside the extraction root (zip-slip): absolute names, `..`
 * climbing out, symbolic links and hard links pointing out, any path that goes through a symbolic link of
 * the archive (lexical checks cannot see where that leads), and device files. Entries are checked in
 * archive order, before their content is used; `check` returns the normalised path or throws InputError.
 */
export class EntryGuard {
  private readonly symlinks = new Set<string>();
  private readonly traversed = new Set<string>();

  constructor(private readonly archive: string) {}

  check(entry: GuardedEntry): string {
    const fail = (why: string): never => {
      throw new InputError(`Failed to unpack file ${this.archive}: entry ${entry.name} ${why}`);
    };
    if (entry.name.includes('\0')) fail('has a NUL byte in its name');
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
        this.walk(path.split('/').slice(0, -1), target, () =>
          fail(`is a symbolic link pointing outside the package root (${target})`),
        );
        if (this.traversed.has(path)) fail('is a symbolic link replacing a directory other entries use');
        this.symlinks.add(path);
        break;
      }
      case 'link': {
        const target = entry.linkname ?? '';
        if (target === '' || isAbsolute(target)) fail(`is a hard link pointing outside the package root (${target})`);
        this.walk([], target, () => fail(`is a hard link pointing outside the package root (${target})`));
        break;
      }
      default:
        fail('is a device file or a fifo');
    }
    return path;
  }

  /** Resolves `rel` from `start`, refusing to climb out of the root or to go through a known symlink. */
  private walk(start: string[], rel: string, fail: (why: string) => never): string {
    const stack = [...start];
    for (const part of rel.split('/')) {
      if (part === '' || part === '.') continue;
      if (stack.length) {
        const dir = stack.join('/');
        if (this.symlinks.has(dir)) fail(`goes through the symbolic link ${dir}`);
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
