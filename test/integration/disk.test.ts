import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { diskFormatAndMountDisk, diskGetUnformatedDisk } from '../../lib/disks/disk-operations.js';
import { exitCode, run, runItems, uniqueName } from '../support/hosts.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime({ DISK_DEVICE_TYPES: 'disk,loop' });
const list = diskGetUnformatedDisk(rt);
const format = diskFormatAndMountDisk(rt);
const [m0, m1] = stackMinions() as [string, string];
const UNKNOWN = '10.255.255.249';
const root = `/tmp/${uniqueName('disk-')}`;
let fstabBackup = '';
const loops: string[] = [];
let [loopA, loopB, loopC, loopD] = ['', '', '', ''];

/** A sparse file attached to a free loop device (the test runs as root, like the minions). */
function attach(name: string, size: string): string {
  const file = `${root}/${name}.img`;
  run('truncate', ['-s', size, file]);
  const device = run('losetup', ['-f', '--show', file]).trim();
  loops.push(device);
  return device;
}

/** The probed filesystem signature of a device ('' when blank). */
const fsType = (device: string) => (exitCode('blkid', ['-p', device]) === 0 ? run('blkid', ['-p', '-o', 'value', '-s', 'TYPE', device]).trim() : '');
const uuidOf = (device: string) => run('blkid', ['-p', '-o', 'value', '-s', 'UUID', device]).trim();
const mountedOn = (dir: string) =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[1] === dir)
    .map((f) => f[0]);
const fstabLines = () =>
  readFileSync('/etc/fstab', 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/));

beforeAll(() => {
  // mkfs.xfs comes from xfsprogs: the test setup installs it where it is missing (the product never does).
  if (exitCode('sh', ['-c', 'command -v mkfs.xfs']) !== 0) {
    const install = ['-y', '-q', 'install', 'xfsprogs'];
    if (exitCode('apt-get', install) !== 0) {
      run('apt-get', ['-q', 'update']);
      run('apt-get', install);
    }
  }
  fstabBackup = readFileSync('/etc/fstab', 'utf8');
  mkdirSync(root, { recursive: true });
  loopA = attach('a', '64M');
  loopB = attach('b', '512M');
  loopC = attach('c', '64M');
  loopD = attach('d', '64M');
  run('mkfs.ext4', ['-q', '-F', loopD]);
}, 300_000);

afterAll(() => {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const dir = line.split(' ')[1]?.replace(/\\040/g, ' ');
    if (dir?.startsWith(root)) exitCode('umount', ['-l', dir]);
  }
  writeFileSync('/etc/fstab', fstabBackup);
  for (const device of loops) exitCode('losetup', ['-d', device]);
  rmSync(root, { recursive: true, force: true });
});

describe('disk/getUnformatedDisk', () => {
  it('lists the blank loop devices on both minions (endpoint as the legacy target), an unknown host fails alone', async () => {
    const [a, b, ghost] = (await runItems(rt, list, [
      { guid: 'a', target: m0 },
      { guid: 'b', endpoint: m1 },
      { guid: 'x', target: UNKNOWN },
    ])) as Out[];
    for (const o of [a, b]) {
      expect(o!['errorCode']).toBe('0');
      expect(o!['unformatedDisks']).toEqual(expect.arrayContaining([loopA, loopB, loopC]));
      expect(o!['unformatedDisks']).not.toContain('/dev/vda');
    }
    expect(ghost).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
  });

  it('counts only the configured device types (default: disk)', async () => {
    const plain = stackRuntime();
    const [out] = (await runItems(plain, diskGetUnformatedDisk(plain), [{ guid: 'p', target: m0 }])) as Out[];
    expect(out!['errorCode']).toBe('0');
    expect(out!['unformatedDisks']).not.toContain(loopA);
  });
});

describe('disk/formatAndMountDisk', () => {
  const dirA = () => `${root}/mnt-a`;
  const dirB = () => `${root}/mnt_b.x-1`;

  it('formats, mounts and adds a UUID fstab entry with nofail; refuses the root disk; an unknown host fails alone', async () => {
    const [a, rootDisk, ghost, bad] = (await runItems(rt, format, [
      { guid: 'a', target: m0, diskName: loopA, fileSystemType: 'ext4', mountDir: dirA() },
      { guid: 'r', target: m1, diskName: 'vda', fileSystemType: 'ext4', mountDir: `${root}/never` },
      { guid: 'x', target: UNKNOWN, diskName: loopC, fileSystemType: 'ext4', mountDir: `${root}/never` },
      { guid: 'i', target: m0, diskName: `${loopC};mkfs.ext4 /dev/vda`, fileSystemType: 'ext4', mountDir: `${root}/never` },
    ])) as Out[];
    expect(a).toMatchObject({ errorCode: '0' });
    const uuid = uuidOf(loopA);
    expect(a!['detail']).toContain(`${loopA} (ext4, UUID=${uuid}) mounted on ${dirA()}, /etc/fstab entry with nofail`);
    expect(fsType(loopA)).toBe('ext4');
    expect(mountedOn(dirA())).toEqual([loopA]);
    expect(fstabLines()).toContainEqual([`UUID=${uuid}`, dirA(), 'ext4', 'defaults,nofail', '0', '2']);
    expect(rootDisk).toMatchObject({ errorCode: '1', errorMessage: `disk /dev/vda is the root disk on ${m1}` });
    expect(ghost).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(bad!['errorMessage']).toBe('Parameter diskName validation failed: must be a device such as /dev/vdb');
    expect(existsSync(`${root}/never`)).toBe(false);
    expect(fsType(loopC)).toBe('');
  });

  it('changes nothing on an identical second call, and refuses to format a disk that has a filesystem', async () => {
    writeFileSync(`${dirA()}/data.txt`, 'survives');
    const uuid = uuidOf(loopA);
    const fstab = readFileSync('/etc/fstab', 'utf8');
    const [again, twice] = (await runItems(rt, format, [
      { guid: 'a', target: m0, diskName: loopA, fileSystemType: 'ext4', mountDir: `${dirA()}/` },
      { guid: 't', target: m0, diskName: loopA, fileSystemType: 'ext4', mountDir: dirA() },
    ])) as Out[];
    expect(twice).toMatchObject({ errorCode: '1', errorMessage: `disk ${loopA} on ${m0} is already in item 1 of this request` });
    const [otherDir, otherFs, spaced] = (await runItems(rt, format, [
      { guid: 'd', target: m0, diskName: loopA, fileSystemType: 'ext4', mountDir: `${root}/elsewhere` },
      { guid: 'f', target: m1, diskName: loopA.replace('/dev/', ''), fileSystemType: 'xfs', mountDir: dirA() },
      { guid: 's', target: m1, diskName: loopC, fileSystemType: 'xfs', mountDir: `${root}/with space` },
    ])) as Out[];
    const foreignUuid = uuidOf(loopD);
    const [formatted] = (await runItems(rt, format, [{ guid: 'e', target: m0, diskName: loopD, fileSystemType: 'ext4', mountDir: `${root}/mnt-d` }])) as Out[];
    expect(formatted).toMatchObject({ errorCode: '1', errorMessage: `disk ${loopD} has a filesystem (ext4) on ${m0}` });
    expect(uuidOf(loopD)).toBe(foreignUuid);
    expect(existsSync(`${root}/mnt-d`)).toBe(false);
    expect(spaced!['errorMessage']).toContain('Parameter mountDir validation failed: must not contain spaces');
    expect(again).toMatchObject({ errorCode: '0', detail: `${loopA} is already formatted (ext4) and mounted on ${dirA()}; nothing changed` });
    expect(otherDir).toMatchObject({ errorCode: '1', errorMessage: `disk ${loopA} is in use (mounted on ${dirA()}) on ${m0}` });
    expect(otherFs).toMatchObject({ errorCode: '1', errorMessage: `disk ${loopA} is in use (mounted on ${dirA()}) on ${m1}` });
    expect(readFileSync('/etc/fstab', 'utf8')).toBe(fstab);
    expect(uuidOf(loopA)).toBe(uuid);
    expect(readFileSync(`${dirA()}/data.txt`, 'utf8')).toBe('survives');
  });

  it('formats xfs through the second minion', async () => {
    const [b] = (await runItems(rt, format, [{ guid: 'b', target: m1, diskName: loopB, fileSystemType: 'XFS', mountDir: dirB() }])) as Out[];
    expect(b).toMatchObject({ errorCode: '0' });
    expect(fsType(loopB)).toBe('xfs');
    expect(mountedOn(dirB())).toEqual([loopB]);
    expect(fstabLines()).toContainEqual([`UUID=${uuidOf(loopB)}`, dirB(), 'xfs', 'defaults,nofail', '0', '2']);
  });

  it('undoes the format when the mount fails, leaving the disk blank and fstab untouched', async () => {
    const notADir = `${root}/not-a-dir`;
    writeFileSync(notADir, 'a file where the mount point should be');
    const fstab = readFileSync('/etc/fstab', 'utf8');
    const [out] = (await runItems(rt, format, [{ guid: 'c', target: m0, diskName: loopC, fileSystemType: 'ext3', mountDir: notADir }])) as Out[];
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_JOB_FAILED' });
    expect(out!['errorMessage']).toMatch(new RegExp(`^Mounting ${loopC} on ${notADir} \\(formatting undone\\) failed on ${m0.replace(/\./g, '\\.')}: mount: `));
    expect(fsType(loopC)).toBe('');
    expect(readFileSync('/etc/fstab', 'utf8')).toBe(fstab);
    expect(readFileSync(notADir, 'utf8')).toBe('a file where the mount point should be');
  });
});

describe('the old API guide examples over HTTP (legacy paths, exact JSON)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'off', DISK_DEVICE_TYPES: 'disk,loop' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves /v1/deploy/disk/getUnformatedDisk', async () => {
    const body = '{\n    "inputs":[{\n\t\t"guid":"10007_000000001",\n\t\t"target":"127.0.0.1"\n    }]\n}';
    const { status, body: response } = await postJson(server.url + '/v1/deploy/disk/getUnformatedDisk', body);
    expect(status).toBe(200);
    expect(response).toMatchObject({ resultCode: '0', resultMessage: 'success' });
    const [out] = response['results'].outputs as Out[];
    expect(out).toMatchObject({ guid: '10007_000000001', errorCode: '0', errorMessage: '' });
    expect(out!['unformatedDisks']).toContain(loopC);
    expect(out!['unformatedDisks']).not.toContain(loopA);
  });

  it('serves /v1/deploy/disk/formatAndMountDisk, refusing /dev/vdb that this machine does not have', async () => {
    // Never run the example on a machine where /dev/vdb exists: it would format it.
    expect(existsSync('/dev/vdb')).toBe(false);
    const existed = existsSync('/data1');
    const body =
      '{\n    "inputs":[{\n\t\t"guid":"10008_000000001",\n\t\t"target":"127.0.0.1",\n\t\t"diskName":"/dev/vdb",\n\t\t"fileSystemType":"ext4",\n\t\t"mountDir":"/data1"\n    }]\n}';
    const { body: response } = await postJson(server.url + '/v1/deploy/disk/formatAndMountDisk', body);
    expect(response).toEqual({
      resultCode: '1',
      resultMessage: 'item 1 (guid 10008_000000001): disk /dev/vdb not found on 127.0.0.1',
      results: { outputs: [{ guid: '10008_000000001', errorCode: '1', errorMessage: 'disk /dev/vdb not found on 127.0.0.1', errorType: 'E_INPUT' }] },
    });
    expect(existsSync('/data1')).toBe(existed);
  });
});
