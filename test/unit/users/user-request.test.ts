import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { accountOf } from '../../../lib/users/host-user-operations.js';
import { parseDir, parseId, parsePathList, splitUserName } from '../../../lib/users/user-request.js';
import { addUserSteps, deleteUserCall, type UserPlan } from '../../../lib/users/user-states.js';
import { WRITE_GUARD_COMMAND } from '../../../lib/salt/write-guard.js';

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
    expect(() => parsePathList('/opt/app/logs,/var/lib/dpkg', 'rwDir', 'h1')).toThrow('Parameter rwDir validation failed: /var/lib/dpkg is under the system tree /var/lib on h1');
    expect(parsePathList('/opt/app/logs|/etcetera/x', 'rwDir', 'h1')).toEqual(['/opt/app/logs', '/etcetera/x']);
  });

  it('drops upstream\'s [ ] & characters and splits on , and |', () => {
    expect(parsePathList('[/data/a],/data/b|/data/a&', 'rwDir')).toEqual(['/data/a', '/data/b']);
    expect(parsePathList(undefined, 'rwDir')).toEqual([]);
    expect(() => parsePathList('/ok,relative', 'rwDir')).toThrow('Parameter rwDir validation failed: must be an absolute path');
  });
});

describe('addUserSteps', () => {
  const plan: UserPlan = {
    user: 'app',
    group: 'apps',
    uid: 1500,
    gid: 1600,
    home: '/data/app',
    passwordHash: '$6$salt$hash',
    exists: false,
    rwDirs: ['/data/app/logs'],
    rwFiles: ['/data/app/app.pid'],
  };

  it('creates the group, then the user with it as primary group and the hash as password, then rw paths', () => {
    const steps = addUserSteps(plan);
    expect(steps.map((s) => [s.id, s.state, s.require])).toEqual([
      ['write guard', 'cmd.run', undefined],
      ['group apps', 'group.present', ['write guard']],
      ['user app', 'user.present', ['write guard', 'group apps']],
      ['password app', 'cmd.run', ['user app']],
      ['rwDir /data/app/logs', 'file.directory', ['write guard', 'user app']],
      ['rwFile /data/app/app.pid', 'file.managed', ['write guard', 'user app']],
    ]);
    // the guard looks at the home and every rw path before anything is written
    expect(steps[0]!.args['stdin']).toBe('/data/app\n/data/app/logs\n/data/app/app.pid\n');
    expect(steps[0]!.args['name']).toBe(WRITE_GUARD_COMMAND);
    steps.shift();
    expect(steps[0]!.args).toEqual({ name: 'apps', gid: 1600 });
    expect(steps[1]!.args).toEqual({
      name: 'app',
      uid: 1500,
      gid: 'apps',
      remove_groups: false,
      home: '/data/app',
      createhome: true,
    });
    // the hash goes to chpasswd on stdin (shadow lock taken), never in user.present nor in an argv
    expect(steps[2]!.args).toEqual({ name: 'chpasswd -e', stdin: 'app:$6$salt$hash\n', timeout: 30 });
    expect(steps[3]!.args).toMatchObject({ name: '/data/app/logs', user: 'app', group: 'apps', makedirs: true, follow_symlinks: false });
    expect(steps[4]!.args).toMatchObject({ name: '/data/app/app.pid', user: 'app', group: 'apps', replace: false, follow_symlinks: false });
  });

  it('adds an existing user to the group as a supplementary group and keeps its password when none is given', () => {
    const steps = addUserSteps({ ...plan, exists: true, gid: undefined, passwordHash: undefined, rwDirs: [], rwFiles: [] });
    expect(steps[2]!.args).toEqual({ name: 'app', uid: 1500, groups: ['apps'], remove_groups: false, home: '/data/app', createhome: true });
  });

  it('creates a user without group or options with useradd defaults', () => {
    const steps = addUserSteps({ ...plan, group: undefined, gid: undefined, uid: undefined, home: undefined, rwDirs: [], rwFiles: [] });
    expect(steps).toEqual([
      {
        id: 'user app',
        state: 'user.present',
        args: { name: 'app', uid: undefined, remove_groups: false, home: undefined, createhome: true },
      },
      { id: 'password app', state: 'cmd.run', args: { name: 'chpasswd -e', stdin: 'app:$6$salt$hash\n', timeout: 30 }, require: ['user app'] },
    ]);
  });

  it('deletes with userdel -rf semantics', () => {
    expect(deleteUserCall('app', true)).toEqual({ fun: 'cmd.run_all', arg: [['userdel', '-f', '-r', '--', 'app']], kwarg: { python_shell: false, timeout: 60 } });
    expect(deleteUserCall('app', false).arg).toEqual([['userdel', '-f', '--', 'app']]);
  });
});

describe('accountOf', () => {
  it.each([
    [{}, 'user', undefined],
    [{ name: 'app', uid: 1001, home: '/home/app' }, 'user', { id: 1001, home: '/home/app' }],
    [{ name: 'apps', gid: 1002, members: [] }, 'group', { id: 1002 }],
    ['not a dict', 'user', undefined],
  ] as const)('reads %j as a %s', (ret, kind, expected) => {
    expect(accountOf(ret, kind)).toEqual(expected);
  });
});
