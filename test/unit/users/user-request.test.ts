import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { parseDir, parseId, parsePathList, splitUserName } from '../../../lib/users/user-request.js';

describe('splitUserName', () => {
  it.each([
    ['app', undefined, { user: 'app', group: undefined }],
    ['app:apps', undefined, { user: 'app', group: 'apps' }],
    ['app:apps', 'other', { user: 'app', group: 'other' }],
    ['app', 'apps', { user: 'app', group: 'apps' }],
    [' app ', ' ', { user: 'app', group: undefined }],
  ])('splits %j with userGroup %j (upstream panicked on user:group without userGroup)', (name, group, expected) => {
    expect(splitUserName(name, group)).toEqual(expected);
  });

  it.each([
    ['app;id', undefined, 'Parameter userName validation failed'],
    ['$(touch /tmp/x)', undefined, 'Parameter userName validation failed'],
    ['`id`', undefined, 'Parameter userName validation failed'],
    ["a'b", undefined, 'Parameter userName validation failed'],
    ['a b', undefined, 'Parameter userName validation failed'],
    ['app\nroot', undefined, 'Parameter userName validation failed'],
    ['app', 'g;rm -rf /', 'Parameter userGroup validation failed'],
    ['app:-g', undefined, 'Parameter userGroup validation failed'],
  ])('refuses %j / %j', (name, group, message) => {
    expect(() => splitUserName(name, group)).toThrow(message);
  });
});

describe('ids, directories, lists', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['1500', 1500],
    [' 2000 ', 2000],
  ])('parseId(%j) is %j', (text, expected) => {
    expect(parseId(text, 'userId', 1000)).toBe(expected);
  });

  it.each([
    ['0', 'is below 1000'],
    ['999', 'is below 1000'],
    ['-1', 'must be a number'],
    ['1e4', 'must be a number'],
    ['2147483647', 'must be a number'],
  ])('parseId refuses %j', (text, message) => {
    expect(() => parseId(text, 'userId', 1000)).toThrow(message);
  });

  it.each([
    ['/home/app/', '/home/app'],
    [undefined, undefined],
  ])('parseDir(%j) is %j', (text, expected) => {
    expect(parseDir(text, 'homeDir')).toBe(expected);
  });

  it.each([['/'], ['home/app'], ['/home/../etc']])('parseDir refuses %j', (text) => {
    expect(() => parseDir(text, 'homeDir')).toThrow(InputError);
  });

  it.each([
    ['/usr/lib', 'homeDir', 'Parameter homeDir validation failed: /usr/lib is under the system tree /usr on 10.0.0.1'],
    ['/etc/shadow', 'rwFile', 'Parameter rwFile validation failed: /etc/shadow is under the system tree /etc on 10.0.0.1'],
    ['/root/.ssh/', 'rwDir', 'Parameter rwDir validation failed: /root/.ssh is under the system tree /root on 10.0.0.1'],
    ['//etc', 'rwDir', 'Parameter rwDir validation failed: /etc is a system directory on 10.0.0.1'],
    ['/home', 'homeDir', 'Parameter homeDir validation failed: /home is a system directory on 10.0.0.1'],
    ['/opt/', 'rwDir', 'Parameter rwDir validation failed: /opt is a system directory on 10.0.0.1'],
  ])('parseDir refuses the system path %j as %s, naming the host', (text, field, message) => {
    expect(() => parseDir(text, field, '10.0.0.1')).toThrow(message);
  });

  it('refuses a system path anywhere in an rw list', () => {
    expect(() => parsePathList('/opt/app/logs,/var/lib/dpkg', 'rwDir', 'h1')).toThrow(
      'Parameter rwDir validation failed: /var/lib/dpkg is under the system tree /var/lib on h1',
    );
    expect(parsePathList('/opt/app/logs|/etcetera/x', 'rwDir', 'h1')).toEqual(['/opt/app/logs', '/etcetera/x']);
  });

  it("drops upstream's [ ] & characters and splits on , and |", () => {
    expect(parsePathList('[/data/a],/data/b|/data/a&', 'rwDir')).toEqual(['/data/a', '/data/b']);
    expect(parsePathList(undefined, 'rwDir')).toEqual([]);
    expect(() => parsePathList('/ok,relative', 'rwDir')).toThrow('Parameter rwDir validation failed: must be an absolute path');
  });
});
