import { describe, expect, it } from '@jest/globals';
import {
  absolutePathProblem,
  accountNameProblem,
  depthOf,
  destinationFile,
  isWithin,
  normalisePath,
  parentOf,
  parseMode,
  parseOwner,
} from '../../../lib/files/host-path.js';

describe('absolutePathProblem', () => {
  it.each([['/data/app/x.tgz'], ['/data/app/'], ['/a b;c/$(touch x)/`id`/"q"\'s'], ['/data/./app//x'], ['/']])('accepts %j (no shell ever sees it)', (path) => {
    expect(absolutePathProblem(path)).toBeUndefined();
  });

  it.each([
    ['relative/path', 'must be an absolute path'],
    ['', 'must be an absolute path'],
    ['/data/../etc/passwd', 'must not contain ..'],
    ['/data/..', 'must not contain ..'],
    ['/data/a\nb', 'contains a control character (newline, tab, NUL...)'],
    ['/data/a\0b', 'contains a control character (newline, tab, NUL...)'],
    ['/data/a\tb', 'contains a control character (newline, tab, NUL...)'],
    ['/' + 'a'.repeat(4096), 'is longer than 4096 characters'],
  ])('refuses %j: %s', (path, problem) => {
    expect(absolutePathProblem(path)).toBe(problem);
  });

  it('does not take a name that merely contains two dots for a parent reference', () => {
    expect(absolutePathProblem('/data/app..v2/x..y')).toBeUndefined();
  });
});

describe('path helpers', () => {
  it.each([
    ['/data//app/./x/', '/data/app/x'],
    ['/', '/'],
    ['//', '/'],
    ['/a', '/a'],
  ])('normalisePath(%j) is %j', (input, expected) => {
    expect(normalisePath(input)).toBe(expected);
  });

  it.each([
    ['/data/app/x', '/data/app', 'x', 3],
    ['/data', '/', 'data', 1],
    ['/', '/', '', 0],
  ])('%j has parent %j, name %j, depth %d', (path, parent, name, depth) => {
    expect(parentOf(path)).toBe(parent);
    expect(path.slice(path.lastIndexOf('/') + 1)).toBe(name);
    expect(depthOf(path)).toBe(depth);
  });

  it.each([
    ['/data/app', '/data', true],
    ['/data', '/data', true],
    ['/database', '/data', false],
    ['/etc', '/data', false],
    ['/anything', '/', true],
  ])('isWithin(%j, %j) is %s', (path, dir, expected) => {
    expect(isWithin(path, dir)).toBe(expected);
  });

  it.each([
    ['/data/app/', 'pkg.tgz', '/data/app/pkg.tgz'],
    ['/data/app/renamed.tgz', 'pkg.tgz', '/data/app/renamed.tgz'],
  ])('destinationFile(%j, %j) is %j', (dest, name, expected) => {
    expect(destinationFile(dest, name)).toBe(expected);
  });
});

describe('accounts and modes', () => {
  it.each([['app'], ['_svc'], ['app-1.x'], ['A'.repeat(32)]])('accepts the account name %j', (name) => {
    expect(accountNameProblem(name)).toBeUndefined();
  });

  it.each([['root;id'], ['$(id)'], ['a b'], ['-rf'], ['1app'], ['a'.repeat(33)], [''], ['..'], ['a`b`'], ["o'brien"], ['app\n']])(
    'refuses the account name %j',
    (name) => {
      expect(accountNameProblem(name)).toBeDefined();
    },
  );

  it.each([
    ['app', { user: 'app', group: undefined }],
    ['app:apps', { user: 'app', group: 'apps' }],
    [' app:apps ', { user: 'app', group: 'apps' }],
    ['app:', { user: 'app', group: undefined }],
  ])('parseOwner(%j)', (text, expected) => {
    expect(parseOwner(text)).toEqual(expected);
  });

  it.each([['app:apps:x'], ['app;id'], ['app:$(id)'], [':apps']])('parseOwner refuses %j', (text) => {
    expect(typeof parseOwner(text)).toBe('string');
  });

  it.each([
    ['644', '0644'],
    ['0755', '0755'],
    [' 600 ', '0600'],
    ['4755', '4755'],
    ['888', undefined],
    ['64', undefined],
    ['rwxr-xr-x', undefined],
    ['07555', undefined],
  ])('parseMode(%j) is %j', (text, expected) => {
    expect(parseMode(text)).toBe(expected);
  });
});
