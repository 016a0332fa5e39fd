import { describe, expect, it } from '@jest/globals';
import { confinePath, EntryGuard, type GuardedEntry } from '../../../lib/artifacts/entry-guard.js';
import { InputError } from '../../../lib/errors.js';

const file = (name: string): GuardedEntry => ({ name, type: 'file' });
const dir = (name: string): GuardedEntry => ({ name, type: 'directory' });
const symlink = (name: string, linkname: string): GuardedEntry => ({ name, type: 'symlink', linkname });
const hardlink = (name: string, linkname: string): GuardedEntry => ({ name, type: 'link', linkname });

/** Runs entries through one guard; returns their paths, or the message of the first refusal. */
function guard(entries: GuardedEntry[]): string[] | string {
  const g = new EntryGuard('pkg.tgz');
  try {
    return entries.map((e) => g.check(e));
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
}

describe('EntryGuard', () => {
  it.each<[string, GuardedEntry[], string[]]>([
    ['plain files and dirs, normalised', [dir('./'), dir('app/'), file('./app/a.txt'), file('app//b/../c.txt')], ['', 'app', 'app/a.txt', 'app/c.txt']],
    ['dotfiles', [file('.env'), file('app/.hidden')], ['.env', 'app/.hidden']],
    ['a relative symlink inside the root', [file('app/conf/a.txt'), symlink('app/bin/link', '../conf/a.txt')], ['app/conf/a.txt', 'app/bin/link']],
    ['a symlink to the root itself', [symlink('app/root', '..')], ['app/root']],
    ['a directory listed twice', [dir('a/'), file('a/x'), dir('./a')], ['a', 'a/x', 'a']],
    ['a symlink chain ending inside', [symlink('a', 'b'), symlink('b', 'c')], ['a', 'b']],
  ])('accepts %s', (_name, entries, paths) => {
    expect(guard(entries)).toEqual(paths);
  });

  it.each<[string, GuardedEntry[], string]>([
    ['an absolute path', [file('/etc/passwd')], 'Failed to unpack file pkg.tgz: entry /etc/passwd has an absolute path'],
    ['a Windows drive path', [file('C:/x')], 'entry C:/x has an absolute path'],
    ['.. climbing out', [file('app/../../evil')], 'entry app/../../evil escapes the package root'],
    ['a bare ..', [dir('..')], 'entry .. escapes the package root'],
    ['an absolute symlink', [symlink('app/link', '/etc')], 'entry app/link is a symbolic link pointing outside the package root (/etc)'],
    ['a symlink climbing out', [symlink('app/link', '../../etc')], 'entry app/link is a symbolic link pointing outside the package root (../../etc)'],
    ['a hard link inside the root', [file('a/x'), hardlink('b/y', 'a/x')], 'entry b/y is a hard link (to a/x): hard links are refused'],
    ['a hard link climbing out', [hardlink('a', '../x')], 'entry a is a hard link (to ../x)'],
    ['an absolute hard link', [hardlink('a', '/etc/shadow')], 'entry a is a hard link (to /etc/shadow)'],
    ['a file listed twice', [file('a/x'), file('./a//x')], 'entry ./a//x appears twice in the archive'],
    ['a file then a directory of the same name', [file('a'), dir('a/')], 'entry a/ appears twice in the archive'],
    ['a symlink then a file of the same name', [symlink('a', 'b'), file('a')], 'entry a appears twice in the archive'],
    ['an entry under a file', [file('a'), file('a/x')], 'entry a/x goes through a, which is not a directory'],
    ['a file replacing a used directory', [file('d/x'), file('d')], 'entry d replaces a directory other entries use'],
    ['a newline in a name', [file('a\nb')], 'entry a\\nb has a control character in its name'],
    ['a control character in a link target', [symlink('a', 'b\u001b')], 'has a control character in its link target'],
    ['a file written through a symlink', [symlink('app/link', 'sub'), file('app/link/x')], 'entry app/link/x goes through the symbolic link app/link'],
    ['.. through a symlink', [symlink('a/l', '.'), symlink('b', 'a/l/../..')], 'entry b is a symbolic link pointing outside the package root (a/l/../..)'],
    ['a symlink replacing a used directory', [file('d/x'), symlink('d', '.')], 'entry d is a symbolic link replacing a directory other entries use'],
    ['a device file', [{ name: 'dev', type: 'other' }], 'entry dev is a device file, a fifo or an entry type this reader does not support'],
    ['a NUL byte', [file('a\0b')], 'has a NUL byte in its name'],
    ['a file named like the root', [file('./')], 'entry ./ has no name'],
  ])('refuses %s', (_name, entries, message) => {
    const result = guard(entries);
    expect(typeof result).toBe('string');
    expect(result).toContain(message);
  });
});

describe('confinePath', () => {
  it.each<[string, string | undefined]>([
    ['conf/app.properties', 'conf/app.properties'],
    ['/conf/app.properties', 'conf/app.properties'],
    ['./a//b/', 'a/b'],
    ['a/../b', 'b'],
    ['/', ''],
    ['..', undefined],
    ['a/../../b', undefined],
    ['/../etc/passwd', undefined],
  ])('%s -> %s', (path, expected) => {
    expect(confinePath(path)).toBe(expected);
  });
});
