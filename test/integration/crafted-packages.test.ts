/**
 * Crafted packages against the real stack: archives built to make two readers disagree (zip link bits
 * under any "made by", PAX global headers, duplicate entries, hard links, links out of the root, absolute
 * and `..` names in every header field a reader may use) go through host-file/copy unpack,
 * apply-deployment and a release. Each must be refused naming the entry, with the host unchanged and
 * nothing outside the target; an archive whose readers disagree harmlessly must land exactly as the guard
 * judged it. Then an application user plants a symbolic link where the next deploy writes.
 *
 * Every escape aims at a canary directory this test made (`/tmp/<run>-canary`, a sibling of the targets),
 * so a broken guard writes only there and the test fails without touching the machine's own files.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { applyDeploymentNew, applyDeploymentUpdate } from '../../lib/deploy/apply-deployment.js';
import { hostFileCopy } from '../../lib/files/host-file-copy-operation.js';
import type { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { releaseStart, releaseStatus } from '../../lib/releases/release-api.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { paxRecords, rawTarBytes, rawZipBytes, type RawTarEntry, type RawZipEntry } from '../support/crafted-archives.js';
import { exitCode, run, runItems, s3, uniqueName } from '../support/hosts.js';
import { hostPath } from '../support/release-app.js';
import { stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const rt = stackRuntime({ RELEASE_RUNNER: 'local', RELEASE_POLL_SECONDS: '1' });
const copy = hostFileCopy(rt);
const [m0, m1] = stackMinions() as [string, string];
const RUN = uniqueName('crafted');
const root = `/tmp/${RUN}`;
/** The canary: a root-owned directory beside the targets, with one file; every escape aims here. */
const canary = `/tmp/${RUN}-canary`;
const canaryFile = `${canary}/keep.txt`;
const bucket = stackEnv()['S3_BUCKET']!;
const keys: string[] = [];
const users: string[] = [];

const put = async (name: string, data: Buffer) => {
  const key = `${RUN}/${name}`;
  keys.push(key);
  return s3().put(bucket, key, data);
};

/** The canary as it was made: exactly keep.txt, root-owned, with its content. */
const expectCanaryUntouched = () => {
  expect(readdirSync(canary)).toEqual(['keep.txt']);
  expect(readFileSync(canaryFile, 'utf8')).toBe('canary\n');
  expect([statSync(canary).uid, statSync(canaryFile).uid, statSync(canaryFile).nlink]).toEqual([0, 0, 1]);
};

/** Every regular file under `dir` (relative path -> content); links listed as `-> target`. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(rel ? `${dir}/${rel}` : dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) out[path] = `-> ${run('readlink', [`${dir}/${path}`]).trim()}`;
      else if (entry.isDirectory()) walk(path);
      else out[path] = readFileSync(`${dir}/${path}`, 'utf8');
    }
  };
  walk('');
  return out;
}

/** The canary as seen from a target directory `${root}/<case>/` (two levels below /tmp). */
const UP = `../../${RUN}-canary`;
const file = (name: string, body = 'pwned\n', more: Partial<RawTarEntry> = {}): RawTarEntry => ({ name, body, ...more });

const TAR_CASES: Array<[string, RawTarEntry[], string]> = [
  [
    'two PAX global headers (tar-stream keeps the last, Python merges them)',
    [
      { name: 'pax_global_header', flag: 'g', body: paxRecords({ path: `${UP}/global.txt` }) },
      { name: 'pax_global_header', flag: 'g', body: paxRecords({ comment: 'second' }) },
      file('ok.txt'),
    ],
    'has a PAX global header',
  ],
  ['a duplicate entry (the second would replace what was judged)', [file('a.txt', 'one\n'), file('./a.txt', 'two\n')], 'entry ./a.txt appears twice'],
  ['a hard link to the canary file', [{ name: 'h', flag: '1', linkname: `${UP}/keep.txt` }], 'entry h is a hard link'],
  ['a hard link inside the root', [file('a.txt'), { name: 'b.txt', flag: '1', linkname: 'a.txt' }], 'entry b.txt is a hard link (to a.txt)'],
  [
    'a symlink out, then a file written through it',
    [{ name: 'l', flag: '2', linkname: canary }, file('l/through.txt')],
    'entry l is a symbolic link pointing outside the package root',
  ],
  ['a relative symlink out', [{ name: 'l', flag: '2', linkname: `${UP}` }], 'entry l is a symbolic link pointing outside the package root'],
  ['an absolute name', [file(`${canary}/abs.txt`)], `entry ${canary}/abs.txt has an absolute path`],
  ['a .. name', [file(`${UP}/dotdot.txt`)], `entry ${UP}/dotdot.txt escapes the package root`],
  ['a .. pax path', [{ name: 'x', flag: 'x', body: paxRecords({ path: `a/../${UP}/pax.txt` }) }, file('innocent.txt')], 'escapes the package root'],
  [
    'an absolute pax linkpath',
    [
      { name: 'x', flag: 'x', body: paxRecords({ linkpath: canary }) },
      { name: 'l', flag: '2', linkname: 'inside' },
    ],
    'pointing outside the package root',
  ],
  [
    'a .. GNU long name',
    [{ name: '././@LongLink', flag: 'L', body: `${UP}/long.txt\0`, magic: 'gnu' }, file('short.txt', 'pwned\n', { magic: 'gnu' })],
    `entry ${UP}/long.txt escapes`,
  ],
  [
    'a .. GNU long link name',
    [
      { name: '././@LongLink', flag: 'K', body: `${UP}\0`, magic: 'gnu' },
      { name: 'l', flag: '2', linkname: 'inside', magic: 'gnu' },
    ],
    'pointing outside the package root',
  ],
  ['a .. ustar prefix', [file('prefixed.txt', 'pwned\n', { prefix: UP })], `entry ${UP}/prefixed.txt escapes the package root`],
  ['a character device', [file('dev', '', { flag: '3' })], 'entry dev is a device file'],
];

const ZIP_CASES: Array<[string, RawZipEntry[], string]> = [
  [
    'a link made by MS-DOS (S_IFLNK in the external attributes) to the canary, then a file through it',
    [
      { name: 'l', body: canary, madeBy: 0, unixMode: S_IFLNK | 0o777 },
      { name: 'l/through.txt', body: 'pwned\n' },
    ],
    'entry l is a symbolic link pointing outside the package root',
  ],
  ['a unix link out', [{ name: 'l', body: UP, madeBy: 3, unixMode: S_IFLNK | 0o777 }], 'entry l is a symbolic link pointing outside the package root'],
  [
    'a link made by an unknown system',
    [{ name: 'l', body: canary, madeBy: 19, unixMode: S_IFLNK | 0o777 }],
    'entry l is a symbolic link pointing outside the package root',
  ],
  ['a Unicode Path extra field', [{ name: 'ok.txt', unicodePath: true }], 'entry ok.txt has a Unicode Path extra field'],
  [
    'a duplicate name',
    [
      { name: 'a.txt', body: '1' },
      { name: 'a.txt', body: '2' },
    ],
    'entry a.txt appears twice',
  ],
  ['an absolute name', [{ name: `X${canary.slice(1)}/abs`, rawName: `${canary}/abs` }], `entry ${canary}/abs has an absolute path`],
  ['a .. name', [{ name: `a/${'x'.repeat(UP.length - 2)}/zip.txt`, rawName: `${UP}/zip.txt` }], `entry ${UP}/zip.txt escapes the package root`],
  ['a character device', [{ name: 'dev', madeBy: 3, unixMode: S_IFCHR | 0o644 }], 'entry dev is a device file'],
  ['a directory name with file attributes', [{ name: 'd/', madeBy: 3, unixMode: S_IFREG | 0o644 }], 'entry d/ is named like a directory'],
];

beforeAll(() => {
  mkdirSync(root, { recursive: true });
  mkdirSync(canary, { recursive: true });
  writeFileSync(canaryFile, 'canary\n');
});

afterAll(async () => {
  for (const u of users) exitCode('userdel', ['-rf', u]);
  rmSync(root, { recursive: true, force: true });
  rmSync(canary, { recursive: true, force: true });
  await Promise.all(keys.map((k) => s3().remove(bucket, k)));
});

describe('host-file/copy unpack of crafted archives', () => {
  it.each(TAR_CASES.map(([what, entries, message], i) => [what, entries, message, i] as const))('tar.gz: %s', async (_what, entries, message, i) => {
    const dir = `${root}/tar-${i}`;
    const url = await put(`tar-${i}.tgz`, rawTarBytes(entries));
    const [out] = (await runItems(rt, copy, [{ guid: 'c', endpoint: url, target: m0, destinationPath: `${dir}/`, unpack: 'true' }])) as Out[];
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toMatch(new RegExp(`^Failed to unpack file tar-${i}\\.tgz: `));
    expect(out!['errorMessage']).toContain(message);
    // Refused before the host was asked anything: not even the archive was copied.
    expect(existsSync(dir)).toBe(false);
    expectCanaryUntouched();
  });

  it.each(ZIP_CASES.map(([what, entries, message], i) => [what, entries, message, i] as const))('zip: %s', async (_what, entries, message, i) => {
    const dir = `${root}/zip-${i}`;
    const url = await put(`zip-${i}.zip`, await rawZipBytes(entries));
    const [out] = (await runItems(rt, copy, [{ guid: 'c', endpoint: url, target: m1, destinationPath: `${dir}/`, unpack: 'true' }])) as Out[];
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toMatch(new RegExp(`^Failed to unpack file zip-${i}\\.zip: `));
    expect(out!['errorMessage']).toContain(message);
    expect(existsSync(dir)).toBe(false);
    expectCanaryUntouched();
  });

  it('unpacks exactly what the guard judged when the readers disagree harmlessly (a GNU header with a prefix field)', async () => {
    // tar-stream ignores the prefix of a GNU header, Python's tarfile prepends it: unpacking the package
    // itself would write <canary>/gnu.txt. The host unpacks the normalised archive, which says gnu.txt.
    const dir = `${root}/disagree`;
    const url = await put('disagree.tgz', rawTarBytes([file('gnu.txt', 'judged\n', { magic: 'gnu', prefix: UP }), file('b/c.txt', 'c\n')]));
    const [out] = (await runItems(rt, copy, [{ guid: 'd', endpoint: url, target: m0, destinationPath: `${dir}/`, unpack: 'true' }])) as Out[];
    expect(out!['errorMessage']).toBe('');
    const landed = tree(dir);
    delete landed['disagree.tgz'];
    expect(landed).toEqual({ 'gnu.txt': 'judged\n', 'b/c.txt': 'c\n' });
    expectCanaryUntouched();
  });

  it('keeps links that stay inside and a zip link made by MS-DOS inside the root, as links', async () => {
    const dir = `${root}/inside`;
    const url = await put(
      'inside.zip',
      await rawZipBytes([
        { name: 'conf/', madeBy: 3 },
        { name: 'conf/a.properties', body: 'k=v\n' },
        { name: 'current', body: 'conf', madeBy: 0, unixMode: S_IFLNK | 0o777 },
      ]),
    );
    const [out] = (await runItems(rt, copy, [{ guid: 'i', endpoint: url, target: m0, destinationPath: `${dir}/`, unpack: 'true' }])) as Out[];
    expect(out!['errorMessage']).toBe('');
    expect(lstatSync(`${dir}/current`).isSymbolicLink()).toBe(true);
    expect(readFileSync(`${dir}/current/a.properties`, 'utf8')).toBe('k=v\n');
  });
});

/** A tgz of regular entries (tar-stream), for the deployment tests. */
async function tgz(entries: Array<{ name: string; body: string; mode?: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const START = '#!/bin/sh\necho started\n';

describe('apply-deployment with crafted packages and planted links', () => {
  const deployUser = uniqueName('cu');
  users.push(deployUser);

  it('new: a crafted package is refused before the host is touched: no user, no install directory, the error names the entry', async () => {
    const dir = `${root}/deploy-crafted/app`;
    const url = await put(
      'crafted-app.zip',
      await rawZipBytes([
        { name: 'bin/start.sh', body: START },
        { name: 'l', body: canary, madeBy: 0, unixMode: S_IFLNK | 0o777 },
        { name: 'l/through.txt', body: 'pwned\n' },
      ]),
    );
    const [out] = (await runItems(rt, applyDeploymentNew(rt), [
      { guid: 'n', target: m0, endpoint: url, userName: deployUser, destinationPath: `${dir}/`, startScript: 'bin/start.sh' },
    ])) as Out[];
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toMatch(
      /^Copy app package to target fail,Failed to unpack file crafted-app\.zip: entry l is a symbolic link pointing outside the package root/,
    );
    expect(exitCode('id', [deployUser])).not.toBe(0);
    expect(existsSync(`${root}/deploy-crafted`)).toBe(false);
    expectCanaryUntouched();
  });

  it('update: a link the app user planted where the package writes is replaced, never followed; one on the way is refused, naming it', async () => {
    const dir = `${root}/deploy-planted/app`;
    const v1 = await put(
      'planted-1.tgz',
      await tgz([
        { name: 'bin/start.sh', body: START, mode: 0o755 },
        { name: 'bin/stop.sh', body: '#!/bin/sh\necho stopped\n', mode: 0o755 },
        { name: 'conf/app.properties', body: 'v=1\n' },
      ]),
    );
    const v2 = await put(
      'planted-2.tgz',
      await tgz([
        { name: 'bin/start.sh', body: START, mode: 0o755 },
        { name: 'bin/stop.sh', body: '#!/bin/sh\necho stopped\n', mode: 0o755 },
        { name: 'conf/app.properties', body: 'v=2\n' },
      ]),
    );
    const item = { target: m0, userName: deployUser, destinationPath: `${dir}/`, startScript: 'bin/start.sh', seed: 'crafted-seed' };
    const [created] = (await runItems(rt, applyDeploymentNew(rt), [{ guid: 'p1', endpoint: v1, ...item }])) as Out[];
    expect(created!['errorMessage']).toBe('');
    const uid = Number(run('id', ['-u', deployUser]).trim());
    expect(statSync(dir).uid).toBe(uid);

    // The app user (who owns the install) points the conf file at the canary file: the deploy replaces the link.
    rmSync(`${dir}/conf/app.properties`);
    symlinkSync(canaryFile, `${dir}/conf/app.properties`);
    lchownSync(`${dir}/conf/app.properties`, uid, uid);
    const update = applyDeploymentUpdate(rt);
    const [replaced] = (await runItems(rt, update, [{ guid: 'p2', endpoint: v2, stopScript: 'bin/stop.sh', ...item }])) as Out[];
    expect(replaced!['errorMessage']).toBe('');
    expect(lstatSync(`${dir}/conf/app.properties`).isSymbolicLink()).toBe(false);
    expect(readFileSync(`${dir}/conf/app.properties`, 'utf8')).toBe('v=2\n');
    expectCanaryUntouched();

    // Now a top-level directory of the package is a link to the canary directory: refused, naming the link.
    rmSync(`${dir}/conf`, { recursive: true });
    symlinkSync(canary, `${dir}/conf`);
    lchownSync(`${dir}/conf`, uid, uid);
    const [refused] = (await runItems(rt, update, [{ guid: 'p3', endpoint: v1, stopScript: 'bin/stop.sh', ...item }])) as Out[];
    expect(refused!['errorCode']).toBe('1');
    expect(refused!['errorMessage']).toContain(`refusing to write ${dir}/conf: ${dir}/conf is a symbolic link owned by uid ${uid}`);
    expect(lstatSync(`${dir}/conf`).isSymbolicLink()).toBe(true);
    expectCanaryUntouched();
  });
});

describe('a release of a crafted package', () => {
  it('fails in Prepare naming the entry; no host is touched', async () => {
    const apps = stackEnv()['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
    const name = uniqueName('crel');
    const url = await put(
      'release-crafted.tgz',
      rawTarBytes([{ name: 'pax_global_header', flag: 'g', body: paxRecords({ path: `${UP}/release.txt` }) }, file('bin/start.sh', START)]),
    );
    const releaseUser = uniqueName('cr');
    users.push(releaseUser);
    const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };
    const [started] = await runOperation(
      releaseStart(rt),
      [
        {
          name,
          mode: 'new',
          endpoint: url,
          destinationPath: `${apps}/${name}/`,
          userName: releaseUser,
          startScript: 'bin/start.sh',
          targets: [m0, m1],
        },
      ],
      ctx,
    );
    expect(started).toMatchObject({ errorCode: '0' });
    const { port } = await rt.releaseRunner();
    const end = await (port as LocalStepFunctions).settled(String(started!['executionArn']));
    expect(end.status).toBe('FAILED');
    const [status] = (await runOperation(releaseStatus(rt), [{ releaseId: started!['releaseId'] }], ctx)) as Out[];
    expect(JSON.stringify(status)).toContain('has a PAX global header');
    expect(exitCode('id', [releaseUser])).not.toBe(0);
    for (const host of [m0, m1]) expect([host, existsSync(hostPath(host, `${apps}/${name}`))]).toEqual([host, false]);
    expectCanaryUntouched();
  });
});
