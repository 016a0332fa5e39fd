import { describe, expect, it } from '@jest/globals';
import { mountSteps, parseFormatRequest, targetOf } from '../../../lib/disks/disk-operations.js';
import { decideFormat, diskFacts, mkfsArgv, unformattedDisks, type HostDisks } from '../../../lib/disks/disk-plan.js';
import { parseBlkid, parseLsblk } from '../../../lib/disks/parse-block-devices.js';

/** lsblk -P -b -p -o NAME,TYPE,FSTYPE,MOUNTPOINT,PKNAME,SIZE,RO of a host with a bit of everything. */
const LSBLK = [
  'NAME="/dev/vda" TYPE="disk" FSTYPE="" MOUNTPOINT="/" PKNAME="" SIZE="274877906944" RO="0"',
  'NAME="/dev/zram0" TYPE="disk" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="0" RO="0"',
  'NAME="/dev/vdb" TYPE="disk" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="107374182400" RO="0"',
  'NAME="/dev/vdc" TYPE="disk" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="107374182400" RO="0"',
  'NAME="/dev/vdc1" TYPE="part" FSTYPE="" MOUNTPOINT="" PKNAME="/dev/vdc" SIZE="107373133824" RO="0"',
  'NAME="/dev/vdd" TYPE="disk" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="10737418240" RO="0"',
  'NAME="/dev/vde" TYPE="disk" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="10737418240" RO="0"',
  'NAME="/dev/vde1" TYPE="part" FSTYPE="" MOUNTPOINT="[SWAP]" PKNAME="/dev/vde" SIZE="10736369664" RO="0"',
  'NAME="/dev/vdf" TYPE="disk" FSTYPE="" MOUNTPOINT="/data1" PKNAME="" SIZE="10737418240" RO="0"',
  'NAME="/dev/sr0" TYPE="rom" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="1073741312" RO="1"',
  'NAME="/dev/loop3" TYPE="loop" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="67108864" RO="0"',
  'NAME="/dev/vdg" TYPE="disk" FSTYPE="" MOUNTPOINT="" PKNAME="" SIZE="10737418240" RO="1"',
  'NAME="/dev/sdx" TYPE="disk" FSTYPE="" MOUNTPOINT="/mnt/a\\x20b" PKNAME="" SIZE="1" RO="0"',
].join('\n');

/** blkid -c /dev/null -o export: udev-less hosts only show filesystems here. */
const BLKID = [
  'DEVNAME=/dev/vdd\nUUID=0b6c5b1e-0000-4000-8000-000000000001\nBLOCK_SIZE=4096\nTYPE=ext4',
  'DEVNAME=/dev/vdc\nPTUUID=abcd\nPTTYPE=gpt',
  'DEVNAME=/dev/vdf\nUUID=0b6c5b1e-0000-4000-8000-000000000002\nTYPE=xfs',
].join('\n\n');

const disks = (over: Partial<HostDisks> = {}): HostDisks => ({
  devices: parseLsblk(LSBLK),
  signatures: parseBlkid(BLKID),
  mounts: { '/': { device: '/dev/vda' }, '/data1': { device: '/dev/vdf' }, '/mnt/busy': { device: 'tmpfs' } },
  fstab: { '/data1': { device: 'UUID=0b6c5b1e-0000-4000-8000-000000000002', fstype: 'xfs' }, '/srv/old': { device: '/dev/sdz1' } },
  ...over,
});

describe('parsers', () => {
  it('reads lsblk pairs, with escaped characters and booleans', () => {
    const devices = parseLsblk(LSBLK);
    expect(devices).toHaveLength(13);
    expect(devices[4]).toEqual({ name: '/dev/vdc1', type: 'part', fstype: '', mountpoint: '', parent: '/dev/vdc', size: 107373133824, readOnly: false });
    expect(devices[12]!.mountpoint).toBe('/mnt/a b');
    expect(devices[9]!.readOnly).toBe(true);
  });

  it('reads blkid export blocks by device', () => {
    const sig = parseBlkid(BLKID);
    expect([...sig.keys()]).toEqual(['/dev/vdd', '/dev/vdc', '/dev/vdf']);
    expect(sig.get('/dev/vdd')).toMatchObject({ TYPE: 'ext4', UUID: '0b6c5b1e-0000-4000-8000-000000000001' });
    expect(parseBlkid('').size).toBe(0);
  });
});

describe('unformattedDisks', () => {
  it('lists only blank, unmounted, writable data disks of the configured types', () => {
    expect(unformattedDisks(disks(), ['disk'])).toEqual(['/dev/vdb']);
  });

  it('includes loop devices when the configuration says so', () => {
    expect(unformattedDisks(disks(), ['disk', 'loop'])).toEqual(['/dev/vdb', '/dev/loop3']);
  });

  it('finds the partitions, filesystems and mounts of a disk', () => {
    expect(diskFacts('/dev/vde', parseLsblk(LSBLK), parseBlkid(BLKID))).toMatchObject({ descendants: [{ name: '/dev/vde1' }], mountpoints: ['[SWAP]'] });
    expect(diskFacts('/dev/nope', parseLsblk(LSBLK), parseBlkid(BLKID))).toBeUndefined();
  });
});

describe('decideFormat', () => {
  const ask = (disk: string, over: Partial<{ filesystem: 'ext3' | 'ext4' | 'xfs'; mountDir: string }> = {}, d = disks()) =>
    decideFormat({ disk, filesystem: 'ext4', mountDir: '/data2', ...over }, d, ['disk', 'loop']);

  it.each([
    ['/dev/vda', 'disk /dev/vda is the root disk'],
    ['/dev/vdc', 'disk /dev/vdc has a partition table (gpt)'],
    ['/dev/vdc1', 'disk /dev/vdc1 is a part of /dev/vdc, not a whole disk'],
    ['/dev/vdd', 'disk /dev/vdd has a filesystem (ext4)'],
    ['/dev/vde', 'disk /dev/vde is in use (mounted on [SWAP])'],
    ['/dev/vdf', 'disk /dev/vdf is in use (mounted on /data1)'],
    ['/dev/sr0', 'disk /dev/sr0 is a rom, not a data disk (DISK_DEVICE_TYPES=disk,loop)'],
    ['/dev/vdg', 'disk /dev/vdg is read-only'],
    ['/dev/zram0', 'disk /dev/zram0 has no media (size 0)'],
    ['/dev/vdz', 'disk /dev/vdz not found'],
  ])('refuses %s', (disk, reason) => {
    expect(ask(disk)).toEqual({ kind: 'refuse', reason });
  });

  it('formats a blank disk onto a free directory', () => {
    expect(ask('/dev/vdb')).toEqual({ kind: 'format' });
    expect(ask('/dev/loop3', { mountDir: '/mnt/new' })).toEqual({ kind: 'format' });
  });

  it.each([
    ['/mnt/busy', 'already a mount point of tmpfs'],
    ['/srv/old', '/etc/fstab already has an entry for it (/dev/sdz1)'],
  ])('refuses to mount a blank disk on %s', (mountDir, reason) => {
    expect(ask('/dev/vdb', { mountDir })).toEqual({ kind: 'refuse', reason: `disk /dev/vdb cannot be mounted on ${mountDir}: ${reason}` });
  });

  it('recognises an identical earlier call: same filesystem, mounted there', () => {
    expect(ask('/dev/vdf', { filesystem: 'xfs', mountDir: '/data1' })).toEqual({ kind: 'already', uuid: '0b6c5b1e-0000-4000-8000-000000000002' });
  });

  it('recognises an identical earlier call whose mount is gone but whose fstab entry is there', () => {
    const d = disks({
      devices: parseLsblk(LSBLK.replace('MOUNTPOINT="/data1"', 'MOUNTPOINT=""')),
      mounts: {},
    });
    expect(ask('/dev/vdf', { filesystem: 'xfs', mountDir: '/data1' }, d)).toEqual({ kind: 'already', uuid: '0b6c5b1e-0000-4000-8000-000000000002' });
    expect(ask('/dev/vdf', { filesystem: 'ext4', mountDir: '/data1' }, d)).toEqual({ kind: 'refuse', reason: 'disk /dev/vdf has a filesystem (xfs)' });
    expect(ask('/dev/vdd', { filesystem: 'ext4', mountDir: '/data9' }, d)).toEqual({ kind: 'refuse', reason: 'disk /dev/vdd has a filesystem (ext4)' });
  });
});

describe('commands and states', () => {
  it.each([
    ['ext3', ['mkfs.ext3', '-F', '-U', 'u-1', '/dev/vdb']],
    ['ext4', ['mkfs.ext4', '-F', '-U', 'u-1', '/dev/vdb']],
    ['xfs', ['mkfs.xfs', '-f', '-m', 'uuid=u-1', '/dev/vdb']],
  ] as const)('formats %s with the UUID chosen by the handler', (fs, argv) => {
    expect(mkfsArgv(fs, '/dev/vdb', 'u-1')).toEqual(argv);
  });

  it('mounts by UUID with nofail and a persistent entry, rolling a fresh format back if the mount fails', () => {
    const steps = mountSteps({ disk: '/dev/vdb', uuid: 'u-1', filesystem: 'ext4', mountDir: '/data1', rollback: true });
    expect(steps[0]).toEqual({
      id: 'mount',
      state: 'mount.mounted',
      args: { name: '/data1', device: 'UUID=u-1', fstype: 'ext4', mkmnt: true, persist: true, opts: 'defaults,nofail', dump: 0, pass_num: 2 },
    });
    expect(steps.slice(1).map((s) => [s.id, s.state, s.onfail])).toEqual([
      ['undo fstab', 'mount.fstab_absent', ['mount']],
      ['undo mount', 'mount.unmounted', ['mount']],
      ['undo mkfs', 'module.run', ['mount']],
    ]);
    expect(steps[3]!.args).toEqual({ 'cmd.run_all': [{ cmd: ['wipefs', '-a', '/dev/vdb'] }, { python_shell: false }] });
    expect(mountSteps({ disk: '/dev/vdb', uuid: 'u', filesystem: 'xfs', mountDir: '/d', rollback: false })).toHaveLength(1);
  });
});

describe('request fields', () => {
  const item = (over: Record<string, string | undefined>) =>
    ({
      guid: 'g',
      callbackParameter: undefined,
      target: '10.0.0.1',
      endpoint: undefined,
      diskName: '/dev/vdb',
      fileSystemType: 'ext4',
      mountDir: '/data1',
      ...over,
    }) as Parameters<typeof parseFormatRequest>[0];

  it.each([
    [{}, { host: '10.0.0.1', disk: '/dev/vdb', filesystem: 'ext4', mountDir: '/data1' }],
    [
      { diskName: 'vdb', fileSystemType: 'XFS', mountDir: '/data1/' },
      { host: '10.0.0.1', disk: '/dev/vdb', filesystem: 'xfs', mountDir: '/data1' },
    ],
    [
      { target: undefined, endpoint: '10.0.0.7' },
      { host: '10.0.0.7', disk: '/dev/vdb', filesystem: 'ext4', mountDir: '/data1' },
    ],
    [{ mountDir: '/opt/data' }, { host: '10.0.0.1', disk: '/dev/vdb', filesystem: 'ext4', mountDir: '/opt/data' }],
    [{ mountDir: '/mnt/disk1' }, { host: '10.0.0.1', disk: '/dev/vdb', filesystem: 'ext4', mountDir: '/mnt/disk1' }],
    [{ mountDir: '/etcetera' }, { host: '10.0.0.1', disk: '/dev/vdb', filesystem: 'ext4', mountDir: '/etcetera' }],
  ])('reads %j', (over, expected) => {
    expect(parseFormatRequest(item(over))).toEqual(expected);
  });

  it.each([
    [{ diskName: '/dev/vdb; mkfs /dev/vda' }, 'Parameter diskName validation failed'],
    [{ diskName: '../vda' }, 'Parameter diskName validation failed'],
    [{ fileSystemType: 'btrfs' }, 'Parameter fileSystemType validation failed: must be one of ext3, ext4, xfs'],
    [{ mountDir: '/' }, 'Parameter mountDir validation failed: / is a system directory'],
    [{ mountDir: '/etc' }, 'Parameter mountDir validation failed: /etc is a system directory on 10.0.0.1'],
    [{ mountDir: '/etc/salt' }, 'Parameter mountDir validation failed: /etc/salt is under the system tree /etc on 10.0.0.1'],
    [{ mountDir: '//usr/' }, 'Parameter mountDir validation failed: /usr is a system directory on 10.0.0.1'],
    [{ mountDir: '/var/lib/mysql' }, 'Parameter mountDir validation failed: /var/lib/mysql is under the system tree /var/lib on 10.0.0.1'],
    [{ mountDir: '/boot/efi' }, 'Parameter mountDir validation failed: /boot/efi is under the system tree /boot on 10.0.0.1'],
    ...['/home', '/var', '/opt', '/tmp', '/srv', '/var/log', '/mnt'].map(
      (d) => [{ mountDir: d }, `Parameter mountDir validation failed: ${d} is a system directory on 10.0.0.1`] as const,
    ),
    [{ mountDir: 'data1' }, 'Parameter mountDir validation failed: must be an absolute path'],
    [{ mountDir: '/data/../etc' }, 'Parameter mountDir validation failed: must not contain ..'],
    [{ mountDir: '/data 1' }, 'Parameter mountDir validation failed: must not contain spaces or backslashes (/etc/fstab fields)'],
    [{ mountDir: '/data\\040x' }, 'Parameter mountDir validation failed: must not contain spaces or backslashes'],
    [{ target: undefined }, 'Parameter target can not empty.'],
    [{ target: '1.2.3.4;id' }, 'Parameter target validation failed'],
  ])('refuses %j', (over, message) => {
    expect(() => parseFormatRequest(item(over))).toThrow(message);
  });

  it('takes target over the legacy endpoint', () => {
    expect(targetOf({ target: '10.0.0.1', endpoint: '10.0.0.2' })).toBe('10.0.0.1');
  });
});
