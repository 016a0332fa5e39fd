/**
 * Confinement of the host-side operations on the real stack: host-user never hands a system tree (or a
 * path behind a planted link) to an application user and never purges a home that is not its own below
 * the home root; disk mounts, host-file deletes and database drops refuse the system's places.
 *
 * Every attack here has a second barrier so that a broken guard fails the test without damaging the
 * machine: host-user attacks on real system paths carry a uid that is already taken (useradd fails before
 * any rw path is touched), deletions aim at canaries the test created, the disk does not exist, and the
 * database refusals run as an account without privileges.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lchownSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { encodeCipherA } from '../../lib/crypto/cipher-a.js';
import { diskFormatAndMountDisk } from '../../lib/disks/disk-operations.js';
import { hostFileDelete } from '../../lib/files/host-file-delete.js';
import { mysqlDatabaseDelete } from '../../lib/mysql/mysql-database-operations.js';
import { mysqlDeps } from '../../lib/mysql/mysql-deps.js';
import { mysqlUserDelete } from '../../lib/mysql/mysql-user-operations.js';
import { hostUserAdd, hostUserDelete } from '../../lib/users/host-user-operations.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { adminConnection, mysqlEnv, schemaNames, unique } from '../support/databases.js';
import { exitCode, md5Of, run, runItems, uniqueName } from '../support/hosts.js';
import { said } from '../support/salt-detail.js';
import { stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime();
const add = hostUserAdd(rt);
const del = hostUserDelete(rt);
const [m0, m1] = stackMinions() as [string, string];
const root = `/tmp/${uniqueName('confine-')}`;
const users: string[] = [];
const cleanup: string[] = [];
const user = () => {
  const name = uniqueName('cu');
  users.push(name);
  return name;
};
const exists = (name: string) => exitCode('id', [name]) === 0;
const uidOf = (name: string) => Number(run('id', ['-u', name]).trim());

/**
 * Owner, group and mode of a path (lstat): what a guard must leave as it was. Not its contents: other
 * tests add users at the same time, which rewrites /etc/shadow.
 */
const fingerprint = (path: string) => {
  if (!existsSync(path) && !isLink(path)) return 'absent';
  const s = lstatSync(path);
  return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
};
const isLink = (path: string) => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

/** A canary directory made by the test (root-owned, like a system directory) holding one file. */
function canaryDir(path: string): { path: string; file: string; md5: string } {
  mkdirSync(path, { recursive: true });
  const file = `${path}/keep.txt`;
  writeFileSync(file, `canary ${path}\n`);
  return { path, file, md5: md5Of(file) };
}
const untouched = (canary: { path: string; file: string; md5: string }) => {
  expect(readdirSync(canary.path)).toEqual(['keep.txt']);
  expect(statSync(canary.path).uid).toBe(0);
  expect(statSync(canary.file).uid).toBe(0);
  expect(md5Of(canary.file)).toBe(canary.md5);
};

beforeAll(() => {
  mkdirSync(root, { recursive: true });
});

afterAll(() => {
  for (const u of users) if (exists(u)) exitCode('userdel', ['-rf', u]);
  for (const p of cleanup) rmSync(p, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

describe('host-user/add confinement', () => {
  it('refuses rwFile=/etc/shadow, rwDir=/root/.ssh and homeDir=/usr/lib on both minions: no user, the system files as they were', async () => {
    // Second barrier: the uid is taken, so even with every guard gone useradd would fail before any rw path.
    const holder = user();
    await runItems(rt, add, [{ guid: 'h', target: m0, userName: holder, password: 'holder-pw-1' }]);
    const takenUid = String(uidOf(holder));
    const watched = ['/etc/shadow', '/root/.ssh', '/usr/lib', '/root'];
    const before = watched.map(fingerprint);
    const [a, b, c, d, e] = [user(), user(), user(), user(), user()];
    const outputs = (await runItems(rt, add, [
      { guid: 'a', target: m0, userName: a, userId: takenUid, password: 'x-12345678', rwFile: '/etc/shadow' },
      { guid: 'b', target: m1, userName: b, userId: takenUid, password: 'x-12345678', rwDir: '/root/.ssh' },
      { guid: 'c', target: m0, userName: c, userId: takenUid, password: 'x-12345678', homeDir: '/usr/lib' },
      { guid: 'd', target: m1, userName: d, userId: takenUid, password: 'x-12345678', rwDir: `${root}/ok,//etc/./salt/` },
      { guid: 'e', target: m0, userName: e, userId: takenUid, password: 'x-12345678', rwFile: '/var/lib/dpkg/status' },
    ])) as Out[];
    expect(outputs.map((o) => o['errorMessage'])).toEqual([
      `Parameter rwFile validation failed: /etc/shadow is under the system tree /etc on ${m0}`,
      `Parameter rwDir validation failed: /root/.ssh is under the system tree /root on ${m1}`,
      `Parameter homeDir validation failed: /usr/lib is under the system tree /usr on ${m0}`,
      `Parameter rwDir validation failed: /etc/salt is under the system tree /etc on ${m1}`,
      `Parameter rwFile validation failed: /var/lib/dpkg/status is under the system tree /var/lib on ${m0}`,
    ]);
    for (const u of [a, b, c, d, e]) expect([u, exists(u)]).toEqual([u, false]);
    expect(watched.map(fingerprint)).toEqual(before);
    expect(existsSync(`${root}/ok`)).toBe(false);
  });

  it('refuses an existing rwDir/rwFile owned by root, or one that a root-owned link leads into /etc, naming field, path and host', async () => {
    const rootDir = canaryDir(`${root}/root-owned`);
    // A root-owned link into /etc, to a canary directory of the test's own there.
    const etcCanary = canaryDir(`/etc/${uniqueName('confine-canary-')}`);
    cleanup.push(etcCanary.path);
    const link = `${root}/etc-link`;
    symlinkSync(etcCanary.path, link);
    const u = user();
    const outputs = (await runItems(rt, add, [
      { guid: 'a', target: m0, userName: u, password: 'x-12345678', rwDir: rootDir.path },
      { guid: 'b', target: m1, userName: u, password: 'x-12345678', rwFile: `${rootDir.path}/keep.txt` },
      { guid: 'c', target: m0, userName: u, password: 'x-12345678', rwFile: `${link}/never.pid` },
    ])) as Out[];
    expect(outputs.map((o) => o['errorMessage'])).toEqual([
      `Parameter rwDir validation failed: ${rootDir.path} exists and is owned by a system account (uid 0 < 1000) on ${m0}`,
      `Parameter rwFile validation failed: ${rootDir.path}/keep.txt exists and is owned by a system account (uid 0 < 1000) on ${m1}`,
      `Parameter rwFile validation failed: ${link}/never.pid goes through a symbolic link: ${etcCanary.path}/never.pid is under the system tree /etc on ${m0}`,
    ]);
    expect(exists(u)).toBe(false);
    untouched(rootDir);
    untouched(etcCanary);
  });

  it('fails, naming the link, when the app user planted a symbolic link on the way to an rwDir; the link target is untouched', async () => {
    const u = user();
    const appDir = `${root}/app-${u}`;
    await runItems(rt, add, [{ guid: 'g', target: m0, userName: u, password: 'x-12345678', rwDir: appDir }]);
    expect(statSync(appDir).uid).toBe(uidOf(u));
    const canary = canaryDir(`${root}/canary-${u}`);
    // What the app user could do: a link of its own in the directory it owns, to a root-owned directory.
    const planted = `${appDir}/logs`;
    symlinkSync(canary.path, planted);
    lchownSync(planted, uidOf(u), uidOf(u));
    const [out] = (await runItems(rt, add, [{ guid: 'g', target: m0, userName: u, password: 'x-12345678', rwDir: `${planted}/app` }])) as Out[];
    expect(out).toMatchObject({ errorCode: '1' });
    expect(out!['errorMessage']).toBe(
      `Adding user ${u} failed on ${m0}: write guard: refusing to write ${planted}/app: ${planted} is a symbolic link owned by uid ${uidOf(u)} (not created by root)`,
    );
    untouched(canary);
    expect(isLink(planted)).toBe(true);
  });
});

describe('host-user/delete confinement', () => {
  it("purges a home only when it is the user's own below /home: a home elsewhere or owned by root is kept", async () => {
    const [outside, rootOwned, own] = [user(), user(), user()];
    const keep = canaryDir(`${root}/home-${outside}`);
    const rootHome = `/home/${rootOwned}`;
    cleanup.push(rootHome);
    mkdirSync(rootHome);
    await runItems(rt, add, [
      { guid: 'a', target: m0, userName: outside, password: 'x-12345678', homeDir: keep.path },
      { guid: 'b', target: m1, userName: rootOwned, password: 'x-12345678', homeDir: rootHome },
      { guid: 'c', target: m0, userName: own, password: 'x-12345678' },
    ]);
    // The test hands the outside home to its user, so that only its place can keep it.
    chownSync(keep.path, uidOf(outside), uidOf(outside));
    expect(statSync(rootHome).uid).toBe(0);
    expect(statSync(`/home/${own}`).uid).toBe(uidOf(own));
    const outputs = (await runItems(rt, del, [
      { guid: 'a', target: m0, userName: outside },
      { guid: 'b', target: m1, userName: rootOwned },
      { guid: 'c', target: m0, userName: own },
    ])) as Out[];
    expect(outputs.map((o) => [o['errorCode'], said(o)])).toEqual([
      ['0', `user ${outside} deleted on ${m0}; home ${keep.path} kept: it is not below the home root /home`],
      ['0', `user ${rootOwned} deleted on ${m1}; home ${rootHome} kept: it is owned by uid 0, not by ${rootOwned}`],
      ['0', `user ${own} deleted on ${m0}`],
    ]);
    for (const u of [outside, rootOwned, own]) expect([u, exists(u)]).toEqual([u, false]);
    expect(readFileSync(keep.file, 'utf8')).toBe(`canary ${keep.path}\n`);
    expect(existsSync(rootHome)).toBe(true);
    expect(existsSync(`/home/${own}`)).toBe(false);
  });

  it('follows HOST_USER_HOME_ROOT: a home below the configured root is purged', async () => {
    const homes = `${root}/homes`;
    mkdirSync(homes);
    const u = user();
    await runItems(rt, add, [{ guid: 'a', target: m1, userName: u, password: 'x-12345678', homeDir: `${homes}/${u}` }]);
    expect(statSync(`${homes}/${u}`).uid).toBe(uidOf(u));
    const rooted = stackRuntime({ HOST_USER_HOME_ROOT: `${homes}/` });
    const [out] = (await runItems(rooted, hostUserDelete(rooted), [{ guid: 'a', target: m1, userName: u }])) as Out[];
    expect(out).toMatchObject({ errorCode: '0' });
    expect(said(out)).toBe(`user ${u} deleted on ${m1}`);
    expect(existsSync(`${homes}/${u}`)).toBe(false);
  });
});

describe('disk/formatAndMountDisk confinement', () => {
  it.each([['/etc/salt'], ['/var/lib/confine'], ['/usr/local'], ['/home'], ['/var'], ['/opt'], ['/tmp'], ['/srv']])(
    'refuses to mount on %s, naming the field and host, and changes nothing',
    async (mountDir) => {
      const fstab = readFileSync('/etc/fstab', 'utf8');
      const existed = existsSync(mountDir);
      // Second barrier: the disk does not exist.
      const [out] = (await runItems(rt, diskFormatAndMountDisk(rt), [
        { guid: 'd', target: m0, diskName: 'confine-none0', fileSystemType: 'ext4', mountDir },
      ])) as Out[];
      expect(out!['errorMessage']).toMatch(
        new RegExp(`^Parameter mountDir validation failed: ${mountDir} is (a system directory|under the system tree [\\w/]+) on ${m0.replace(/\./g, '\\.')}$`),
      );
      expect(readFileSync('/etc/fstab', 'utf8')).toBe(fstab);
      expect(existsSync(mountDir)).toBe(existed);
    },
  );
});

describe('host-file/delete confinement', () => {
  it('refuses, with or without baseDir, a path under /etc and one a link carries into /etc; the canaries stay', async () => {
    const etcCanary = canaryDir(`/etc/${uniqueName('confine-canary-')}`);
    cleanup.push(etcCanary.path);
    const link = `${root}/to-etc-canary`;
    symlinkSync(etcCanary.path, link);
    const name = etcCanary.path.slice('/etc/'.length);
    const outputs = (await runItems(rt, hostFileDelete(rt), [
      { guid: 'a', host: m0, targetPath: etcCanary.file },
      { guid: 'b', host: m1, baseDir: '/etc', targetPath: `${name}/keep.txt` },
      { guid: 'c', host: m0, targetPath: `${link}/keep.txt` },
      { guid: 'd', host: m1, targetPath: `${link}/` },
    ])) as Out[];
    expect(outputs.map((o) => o['errorMessage'])).toEqual([
      `Parameter targetPath validation failed: path illegal: ${etcCanary.file} (${etcCanary.file} is under the system tree /etc)`,
      `Parameter targetPath validation failed: path illegal: ${name}/keep.txt (${etcCanary.file} is under the system tree /etc)`,
      `Parameter targetPath validation failed: path illegal: ${link}/keep.txt (goes through a symbolic link: ${etcCanary.file} is under the system tree /etc)`,
      `Parameter targetPath validation failed: path illegal: ${link}/ (goes through a symbolic link: ${etcCanary.path} is under the system tree /etc)`,
    ]);
    untouched(etcCanary);
  });
});

describe('mysql-database/delete and mysql-user/delete confinement', () => {
  let admin: Connection;
  // Second barrier: the admin of these calls holds no privilege at all, so a broken guard fails, not drops.
  const account = unique('confine');
  const accountPassword = `Pw-${account}`;
  const { host, port } = mysqlEnv();
  const base = { guid: 'g', seed: 'seed-c', host, port: String(port), userName: account, password: encodeCipherA('g', 'seed-c', accountPassword) };
  const ctx = () => ({ logger: rt.logger, signal: new AbortController().signal, concurrency: 2 });

  beforeAll(async () => {
    admin = await adminConnection();
    await admin.query({ sql: 'CREATE USER ?@? IDENTIFIED BY ?', values: [account, '%', accountPassword] });
  });
  afterAll(async () => {
    await admin.query({ sql: 'DROP USER IF EXISTS ?@?', values: [account, '%'] });
    await admin.end();
  });

  it('refuses to drop mysql, sys, information_schema and performance_schema; the schemas are still there', async () => {
    const names = ['mysql', 'MYSQL', '`sys`', 'information_schema', 'performance_schema'];
    const outputs = await runOperation(
      mysqlDatabaseDelete(mysqlDeps(rt)),
      names.map((databaseName) => ({ ...base, databaseName, databaseOwnerGuid: 'o' })),
      ctx(),
    );
    expect(outputs.map((o) => o.errorMessage)).toEqual(
      ['mysql', 'mysql', 'sys', 'information_schema', 'performance_schema'].map(
        (n) => `Parameter databaseName validation failed: ${n} is a system schema of the server; it is never dropped (on ${host}:${port})`,
      ),
    );
    expect(await schemaNames(admin, 'mysql')).toEqual(['mysql']);
    const [tables] = await admin.query({ sql: 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', values: ['mysql'] });
    expect((tables as Array<{ n: number }>)[0]!.n).toBeGreaterThan(10);
  });

  it("refuses to drop root and the server's own accounts", async () => {
    const names = ['root', 'mysql.sys', 'mysql.session', 'mariadb.sys', 'mysql.infoschema'];
    const outputs = await runOperation(
      mysqlUserDelete(mysqlDeps(rt)),
      names.map((databaseUserName) => ({ ...base, databaseUserName, databaseUserGuid: 'u' })),
      ctx(),
    );
    expect(outputs.map((o) => o.errorMessage)).toEqual(
      names.map((n) => `Parameter databaseUserName validation failed: ${n} is a system account of the server; it is never dropped (on ${host}:${port})`),
    );
    const [rows] = await admin.query({ sql: "SELECT COUNT(*) AS n FROM mysql.user WHERE User = 'root'" });
    expect((rows as Array<{ n: number }>)[0]!.n).toBeGreaterThan(0);
  });
});
