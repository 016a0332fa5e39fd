import { describe, expect, it } from '@jest/globals';
import { SYSTEM_DIRS, systemDeletionProblem, systemTreeProblem } from '../../../lib/files/system-paths.js';

describe('systemTreeProblem (paths handed to an app user, mount points)', () => {
  it.each([
    ['/', '/ is a system directory'],
    ['//', '/ is a system directory'],
    ['/etc', '/etc is a system directory'],
    ['/etc/', '/etc is a system directory'],
    ['//etc', '/etc is a system directory'],
    ['/etc/shadow', '/etc/shadow is under the system tree /etc'],
    ['/./etc/x', '/etc/x is under the system tree /etc'],
    ['/etc//salt/minion.d/x.conf', '/etc/salt/minion.d/x.conf is under the system tree /etc'],
    ['/usr/lib', '/usr/lib is under the system tree /usr'],
    ['/usr/local/bin/app', '/usr/local/bin/app is under the system tree /usr'],
    ['/bin/sh', '/bin/sh is under the system tree /bin'],
    ['/sbin', '/sbin is a system directory'],
    ['/lib/x', '/lib/x is under the system tree /lib'],
    ['/lib32/x', '/lib32/x is under the system tree /lib32'],
    ['/lib64/ld.so', '/lib64/ld.so is under the system tree /lib64'],
    ['/libx32/x', '/libx32/x is under the system tree /libx32'],
    ['/boot/grub', '/boot/grub is under the system tree /boot'],
    ['/root/.ssh', '/root/.ssh is under the system tree /root'],
    ['/root/.ssh/authorized_keys', '/root/.ssh/authorized_keys is under the system tree /root'],
    ['/proc/1/mem', '/proc/1/mem is under the system tree /proc'],
    ['/sys/kernel', '/sys/kernel is under the system tree /sys'],
    ['/dev/sda', '/dev/sda is under the system tree /dev'],
    ['/run/sshd', '/run/sshd is under the system tree /run'],
    ['/var/run/app.pid', '/var/run/app.pid is under the system tree /var/run'],
    ['/var/lib', '/var/lib is a system directory'],
    ['/var/lib/mysql', '/var/lib/mysql is under the system tree /var/lib'],
    ['/var/spool/cron/crontabs/root', '/var/spool/cron/crontabs/root is under the system tree /var/spool'],
    ['/var/mail/root', '/var/mail/root is under the system tree /var/mail'],
    ['/var/backups/shadow.bak', '/var/backups/shadow.bak is under the system tree /var/backups'],
    ['/var/cache/salt/minion', '/var/cache/salt/minion is under the system tree /var/cache/salt'],
    ['/srv/salt/top.sls', '/srv/salt/top.sls is under the system tree /srv/salt'],
    ['/srv/pillar', '/srv/pillar is a system directory'],
    ['/opt', '/opt is a system directory'],
    ['/opt/', '/opt is a system directory'],
    ['/home', '/home is a system directory'],
    ['/tmp', '/tmp is a system directory'],
    ['/var', '/var is a system directory'],
    ['/var/', '/var is a system directory'],
    ['/srv', '/srv is a system directory'],
    ['/var/log', '/var/log is a system directory'],
    ['/var/tmp', '/var/tmp is a system directory'],
    ['/var/cache', '/var/cache is a system directory'],
    ['/mnt', '/mnt is a system directory'],
    ['/usr/lib/../..', 'must not contain ..'],
    ['/data/../etc', 'must not contain ..'],
    ['etc/passwd', 'must be an absolute path'],
    ['/etc\n/x', 'contains a control character (newline, tab, NUL...)'],
  ])('refuses %j: %s', (path, problem) => {
    expect(systemTreeProblem(path)).toBe(problem);
  });

  it.each([
    ['/etcetera'],
    ['/etcetera/x'],
    ['/ETC/passwd'],
    ['/usrlocal'],
    ['/opt/app'],
    ['/opt/app/logs'],
    ['/home/app'],
    ['/home/app/.ssh'],
    ['/tmp/x'],
    ['/srv/app'],
    ['/srv/saltine'],
    ['/var/log/app'],
    ['/var/tmp/x'],
    ['/var/cache/app'],
    ['/var/library'],
    ['/data'],
    ['/data/app'],
    ['/mnt/disk1'],
    ['/app'],
  ])('allows %j', (path) => {
    expect(systemTreeProblem(path)).toBeUndefined();
  });

  it('lists each directory once, normalised', () => {
    const paths = SYSTEM_DIRS.map((d) => d.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const p of paths) expect(p === '/' || (/^(\/[^/]+)+$/.test(p) && !p.endsWith('/'))).toBe(true);
  });
});

describe('systemDeletionProblem (host-file/delete)', () => {
  it.each([
    ['/', '/ is a system directory'],
    ['/etc/', '/etc is a system directory'],
    ['/etc/passwd', '/etc/passwd is under the system tree /etc'],
    ['/etc/salt/minion', '/etc/salt/minion is under the system tree /etc'],
    ['//usr/lib/x', '/usr/lib/x is under the system tree /usr'],
    ['/boot/vmlinuz', '/boot/vmlinuz is under the system tree /boot'],
    ['/root/.bashrc', '/root/.bashrc is under the system tree /root'],
    ['/bin/x', '/bin/x is under the system tree /bin'],
    ['/sbin/x', '/sbin/x is under the system tree /sbin'],
    ['/lib/x', '/lib/x is under the system tree /lib'],
    ['/lib64/x', '/lib64/x is under the system tree /lib64'],
    ['/proc/sys', '/proc/sys is under the system tree /proc'],
    ['/sys/x', '/sys/x is under the system tree /sys'],
    ['/dev/null', '/dev/null is under the system tree /dev'],
    ['/srv/salt/base', '/srv/salt/base is under the system tree /srv/salt'],
    ['/var/cache/salt/minion', '/var/cache/salt/minion is under the system tree /var/cache/salt'],
    ['/var/lib', '/var/lib is a system directory'],
    ['/var/log/', '/var/log is a system directory'],
    ['/var/spool', '/var/spool is a system directory'],
    ['/home', '/home is a system directory'],
    ['/opt', '/opt is a system directory'],
    ['/tmp', '/tmp is a system directory'],
    ['/a/../etc', 'must not contain ..'],
  ])('refuses %j: %s', (path, problem) => {
    expect(systemDeletionProblem(path)).toBe(problem);
  });

  it.each([['/etcetera/x'], ['/var/lib/app/cache'], ['/var/log/app/old.log'], ['/tmp/x'], ['/opt/app'], ['/home/app/tmp'], ['/data/app/logs']])(
    'allows %j',
    (path) => {
      expect(systemDeletionProblem(path)).toBeUndefined();
    },
  );
});
