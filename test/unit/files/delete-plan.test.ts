import { describe, expect, it } from '@jest/globals';
import { confineResolved, deleteSteps, pathsToResolve, planDelete } from '../../../lib/files/delete-plan.js';
import { InputError } from '../../../lib/errors.js';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
};

describe('planDelete', () => {
  it.each([
    [
      'a/b,c/',
      '/data/app',
      [
        { path: '/data/app/a/b', contentsOnly: false },
        { path: '/data/app/c', contentsOnly: true },
      ],
    ],
    [
      '/logs/|tmp',
      '/data/app/',
      [
        { path: '/data/app/logs', contentsOnly: true },
        { path: '/data/app/tmp', contentsOnly: false },
      ],
    ],
    ['/', '/data/app', [{ path: '/data/app', contentsOnly: true }]],
    [' x , x ,, ', '/data/app', [{ path: '/data/app/x', contentsOnly: false }]],
    [
      '/data/app/logs/, /opt/x/y',
      undefined,
      [
        { path: '/data/app/logs', contentsOnly: true },
        { path: '/opt/x/y', contentsOnly: false },
      ],
    ],
    ['a b;$(touch x)', '/data', [{ path: '/data/a b;$(touch x)', contentsOnly: false }]],
    [
      '/var/lib/app/cache/, /etcetera/x',
      undefined,
      [
        { path: '/var/lib/app/cache', contentsOnly: true },
        { path: '/etcetera/x', contentsOnly: false },
      ],
    ],
    ['old.log', '/var/log/app', [{ path: '/var/log/app/old.log', contentsOnly: false }]],
  ])('plans %j under baseDir %j', (targetPath, baseDir, entries) => {
    expect(planDelete(targetPath, baseDir).entries).toEqual(entries);
  });

  it.each([
    ['../etc', '/data/app', 'path illegal: ../etc (must not contain ..)'],
    ['a/../../etc', '/data/app', 'must not contain ..'],
    ['/', undefined, 'path illegal: / (is /)'],
    ['/etc', undefined, 'is a top-level directory'],
    ['/etc/', undefined, 'is a top-level directory'],
    ['/data//', undefined, 'is a top-level directory'],
    ['relative/x', undefined, 'must be an absolute path'],
    ['', '/data', 'Parameter targetPath can not empty.'],
    [',|', '/data', 'Parameter targetPath can not empty.'],
    ['.', '/data/app', 'is baseDir itself'],
    ['a\nb', '/data/app', 'control character'],
    ['/etc/passwd', undefined, 'path illegal: /etc/passwd (/etc/passwd is under the system tree /etc)'],
    ['/etc/salt/', undefined, 'path illegal: /etc/salt/ (/etc/salt is under the system tree /etc)'],
    ['//usr/lib/x', undefined, '(/usr/lib/x is under the system tree /usr)'],
    ['/boot/grub', undefined, '(/boot/grub is under the system tree /boot)'],
    ['/root/.ssh', undefined, '(/root/.ssh is under the system tree /root)'],
    ['/lib64/x', undefined, '(/lib64/x is under the system tree /lib64)'],
    ['/proc/1', undefined, '(/proc/1 is under the system tree /proc)'],
    ['/sys/x', undefined, '(/sys/x is under the system tree /sys)'],
    ['/dev/sda', undefined, '(/dev/sda is under the system tree /dev)'],
    ['/var/lib', undefined, 'path illegal: /var/lib (/var/lib is a system directory)'],
    ['/var/log/', undefined, 'path illegal: /var/log/ (/var/log is a system directory)'],
    ['/srv/salt/base', undefined, '(/srv/salt/base is under the system tree /srv/salt)'],
    ['shadow', '/etc', 'path illegal: shadow (/etc/shadow is under the system tree /etc)'],
    ['/', '/var/lib', 'path illegal: / (/var/lib is a system directory)'],
    ['lib', '/var', 'path illegal: lib (/var/lib is a system directory)'],
  ])('refuses %j under baseDir %j', (targetPath, baseDir, message) => {
    expect(refusal(() => planDelete(targetPath, baseDir))).toContain(message);
  });

  it.each([
    ['/', 'must not be /'],
    ['data', 'must be an absolute path'],
    ['/data/../', 'must not contain ..'],
  ])('refuses the baseDir %j', (baseDir, message) => {
    expect(refusal(() => planDelete('x', baseDir))).toContain(`Parameter baseDir validation failed: ${message}`);
  });
});

describe('confineResolved (realpath on the host)', () => {
  const plan = planDelete('logs/,old/pkg', '/data/app');

  it('asks for the real base, the emptied directory and the parent of a whole deletion', () => {
    expect(pathsToResolve(plan)).toEqual(['/data/app', '/data/app/logs', '/data/app/old']);
  });

  it('keeps paths whose real location stays in the real baseDir', () => {
    expect(confineResolved(plan, ['/srv/app', '/srv/app/logs', '/srv/app/old'])).toEqual([
      { path: '/srv/app/logs', contentsOnly: true },
      { path: '/srv/app/old/pkg', contentsOnly: false },
    ]);
  });

  it('refuses a directory that is a symbolic link out of baseDir', () => {
    expect(refusal(() => confineResolved(plan, ['/data/app', '/etc', '/data/app/old']))).toContain('resolves to /etc, outside /data/app');
  });

  it('refuses a parent that is a symbolic link out of baseDir', () => {
    expect(refusal(() => confineResolved(plan, ['/data/app', '/data/app/logs', '/var/lib']))).toContain('resolves to /var/lib/pkg');
  });

  it('refuses, without baseDir, a path that a link takes up to a top-level directory', () => {
    const loose = planDelete('/data/app/link/', undefined);
    expect(refusal(() => confineResolved(loose, ['/etc']))).toContain('resolves to /etc');
    expect(confineResolved(loose, ['/data/real'])).toEqual([{ path: '/data/real', contentsOnly: true }]);
  });

  it('refuses a path that a link takes into a system tree, with or without baseDir', () => {
    expect(refusal(() => confineResolved(planDelete('/data/app/link/passwd', undefined), ['/etc']))).toContain(
      'path illegal: /data/app/link/passwd (goes through a symbolic link: /etc/passwd is under the system tree /etc)',
    );
    expect(refusal(() => confineResolved(planDelete('ssh/', '/data/app'), ['/root', '/root/ssh']))).toContain(
      'path illegal: /data/app/ssh/ (goes through a symbolic link: /root/ssh is under the system tree /root)',
    );
    expect(refusal(() => confineResolved(planDelete('/data/app/lib/', undefined), ['/var/lib']))).toContain(
      '(goes through a symbolic link: /var/lib is a system directory)',
    );
  });
});

describe('deleteSteps', () => {
  it('removes whole paths with file.absent and empties directories with file.directory clean, in order', () => {
    const steps = deleteSteps([
      { path: '/data/app/logs', contentsOnly: true },
      { path: '/data/app/x', contentsOnly: false },
    ]);
    expect(steps).toEqual([
      {
        id: 'empty /data/app/logs/',
        state: 'file.directory',
        args: { name: '/data/app/logs', clean: true, onlyif: [{ fun: 'file.directory_exists', path: '/data/app/logs' }] },
      },
      { id: 'delete /data/app/x', state: 'file.absent', args: { name: '/data/app/x' }, require: ['empty /data/app/logs/'] },
    ]);
  });
});
