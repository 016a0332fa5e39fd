/**
 * apply-deployment/new, update, delete against the stack's minions (127.0.0.1 and 127.0.0.2, root on this
 * machine, sharing its filesystem): every claim is checked on the host itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { decodeCipherA } from '../../lib/crypto/cipher-a.js';
import { applyDeploymentDelete, applyDeploymentNew, applyDeploymentUpdate } from '../../lib/deploy/apply-deployment.js';
import { exitCode, md5, ownerOf, run, runItems, s3, uniqueName } from '../support/hosts.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { said } from '../support/salt-detail.js';
import { capturedLogs, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime();
const create = applyDeploymentNew(rt);
const update = applyDeploymentUpdate(rt);
const remove = applyDeploymentDelete(rt);
const [m0, m1] = stackMinions() as [string, string];
const UNKNOWN = '10.255.255.249';
const RUN = uniqueName('dep');
const root = `/tmp/${RUN}`;
/** Every start and stop of every test application, in order, one line each: `<event> <version> <user> <dir> [args]`. */
const events = `${root}-events.log`;
const canary = `${root}-canary`;
/**
 * The application users: one per minion. Both minions share this machine's /etc/passwd, where two
 * concurrent useradd of the same name race (real hosts each have their own).
 */
const user = uniqueName('du');
const group = uniqueName('dg');
const user2 = uniqueName('du');
const group2 = uniqueName('dg');
/** The user (and group) of the items on each minion. */
const userOn = (host: string) => (host === m0 ? { user, group } : { user: user2, group: group2 });
const bucket = 'artifacts';
/** Encrypts the generated password of the user handed back by new (host-user/add returns no plain password). */
const SEED = 'deploy-it-seed';
const keys: string[] = [];

/** The install directory of an item (under /tmp: both minions see it, and so does the test). */
const dirOf = (name: string) => `${root}/${name}/app`;

/**
 * A .tgz application: `bin/start.sh` records its start (in the events log and a `started` marker in the
 * install dir) and fails when the package holds FAIL_START; `bin/stop.sh` records its stop; the conf file
 * carries the `[@app_version]` placeholder; lib/app-<v>.jar is the version's own file.
 */
async function appPackage(version: string, options: { failStart?: boolean } = {}): Promise<Buffer> {
  const start = [
    '#!/bin/sh',
    'cd "$(dirname "$0")/.." || exit 9',
    `if [ -e FAIL_START ]; then echo "start ${version} refused by FAIL_START" >&2; exit 7; fi`,
    `echo "start ${version} $(id -un) $PWD $*" >> ${events}`,
    `echo "${version} $(id -un)" > started`,
    `mkdir -p logs cache && echo "log of ${version}" > logs/app-${version}.log && echo "${version}" > cache/${version}.bin`,
    `echo "started ${version} as $(id -un)"`,
  ].join('\n');
  const stop = ['#!/bin/sh', 'cd "$(dirname "$0")/.." || exit 9', `echo "stop ${version} $(id -un) $PWD" >> ${events}`, `echo "stopped ${version}"`].join('\n');
  const entries: Array<{ name: string; body: string; mode?: number; type?: 'file' | 'directory' }> = [
    { name: 'bin/', body: '', type: 'directory', mode: 0o755 },
    { name: 'bin/start.sh', body: start + '\n', mode: 0o755 },
    { name: 'bin/stop.sh', body: stop + '\n', mode: 0o755 },
    { name: 'conf/app.properties', body: 'version=[@app_version]\nname=demo\n', mode: 0o640 },
    { name: `lib/app-${version}.jar`, body: `jar ${version}\n` },
    ...(options.failStart ? [{ name: 'FAIL_START', body: 'x' }] : []),
  ];
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644 }, e.body, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const packages: Record<string, { url: string; data: Buffer }> = {};
const put = async (name: string, data: Buffer) => {
  const key = `${RUN}/${name}`;
  keys.push(key);
  return { url: await s3().put(bucket, key, data), data };
};

/** The item fields every deployment of the test app shares. */
const app = (version: string, pkg = `v${version[0]}`, host = m0) => ({
  endpoint: packages[pkg]!.url,
  userName: `${userOn(host).user}:${userOn(host).group}`,
  startScript: 'bin/start.sh',
  confFiles: 'conf/app.properties',
  variableList: `app_version=${version}`,
  logFileTrade: '*.log',
  seed: SEED,
});

const eventLines = (dir: string) =>
  (existsSync(events) ? readFileSync(events, 'utf8') : '')
    .split('\n')
    .filter((l) => l.includes(` ${dir}`))
    .map((l) => l.replace(` ${dir}`, '').trim());
const started = (dir: string) => readFileSync(`${dir}/started`, 'utf8').trim();
const conf = (dir: string) => readFileSync(`${dir}/conf/app.properties`, 'utf8');
const snapshotOf = (dir: string) => `${dir}.saltstack-previous`;

beforeAll(async () => {
  mkdirSync(root, { recursive: true });
  writeFileSync(events, '');
  chmodSync(events, 0o666);
  packages['v1'] = await put('app-1.0.0.tgz', await appPackage('1.0.0'));
  packages['v2'] = await put('app-2.0.0.tgz', await appPackage('2.0.0'));
  packages['v3'] = await put('app-3.0.0.tgz', await appPackage('3.0.0', { failStart: true }));
  packages['sig'] = await put('app-2.0.0.sig', Buffer.from('signature v2\n'));
}, 60_000);

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  rmSync(events, { force: true });
  rmSync(canary, { force: true });
  for (const u of [user, user2]) exitCode('userdel', ['-rf', u]);
  for (const g of [group, group2]) exitCode('groupdel', [g]);
  // the packages, and the re-packed ones the operations reported
  await Promise.all([...keys, ...replaced].map((k) => s3().remove(bucket, k)));
});

/** Keys of the re-packed packages the operations reported (s3PkgPath), to remove after the run. */
const replaced = new Set<string>();
const noteReplaced = (outs: Out[]) => {
  for (const o of outs) {
    const path = o['s3PkgPath'] as string | undefined;
    if (path?.includes(`/${bucket}/`)) replaced.add(decodeURIComponent(path.slice(path.indexOf(`/${bucket}/`) + bucket.length + 2)));
  }
};
const deploy = async (op: typeof create | typeof update | typeof remove, items: unknown[]) => {
  const outs = (await runItems(rt, op, items)) as Out[];
  noteReplaced(outs);
  return outs;
};

describe('apply-deployment on the stack minions', () => {
  const a = dirOf('a');
  const b = dirOf('b');

  it('new: deploys v1 to both minions in one request (user, files, variables, start as the user); an unknown host fails alone, in order', async () => {
    const outs = await deploy(create, [
      { guid: 'a', target: m0, destinationPath: a, ...app('1.0.0'), args: "--mode 'blue green'", callbackParameter: 'cb-a' },
      { guid: 'ghost', target: UNKNOWN, destinationPath: dirOf('ghost'), ...app('1.0.0') },
      { guid: 'b', target: m1, destinationPath: `${b}/`, ...app('1.0.0', 'v1', m1) },
    ]);
    expect(outs.map((o) => [o['guid'], o['target'], o['errorCode'], o['errorMessage']])).toEqual([
      ['a', m0, '0', ''],
      ['ghost', UNKNOWN, '1', `Create user fail,Salt-master can not recognize ${UNKNOWN}, please check if salt-minion installed on this target. `],
      ['b', m1, '0', ''],
    ]);
    expect(outs[1]).toMatchObject({ retCode: 1, errorType: 'E_NO_RETURN' });
    expect(outs[1]).not.toHaveProperty('rollback');
    expect(existsSync(dirOf('ghost'))).toBe(false);
    expect(outs[0]!['callbackParameter']).toBe('cb-a');

    for (const [o, dir, host] of [
      [outs[0]!, a, m0],
      [outs[2]!, b, m1],
    ] as const) {
      const { user, group } = userOn(host);
      // the user, with its group
      expect(run('id', ['-un', user]).trim()).toBe(user);
      expect(run('id', ['-gn', user]).trim()).toBe(group);
      expect(o['retCode']).toBe(0);
      expect(said({ detail: o['userDetail'] })).toBe(`user ${user} created on ${host} (group ${group})`);
      expect(o['runScriptDetail']).toBe(`started 1.0.0 as ${user}`);
      // the package deployed is the re-packed one, with the variables substituted
      expect(o['s3PkgPath']).toMatch(new RegExp(`/${bucket}/.*[0-9a-f]{32}_app-1\\.0\\.0_\\d{14}_[0-9a-z]{4}\\.tgz$`));
      const repacked = o['s3PkgPath'].slice(o['s3PkgPath'].lastIndexOf('/') + 1);
      expect(o['fileDetail']).toBe(`{"return": [{"${host}": "${md5(readFileSync(`${dir}/${repacked}`))}"}]}`);
      expect(o).not.toHaveProperty('rollback');
      // the generated password comes back {cipher_a}-encrypted with guid + seed, never in clear
      expect(o['password']).toMatch(/^\{cipher_a\}[0-9a-f]{32,}$/);
      expect(decodeCipherA(o['guid'], SEED, o['password'])).toMatch(/^\S{8,}$/);
      // files unpacked, owned by the user, the placeholder substituted, the start script ran as the user
      expect(conf(dir)).toBe('version=1.0.0\nname=demo\n');
      for (const rel of ['', 'bin', 'bin/start.sh', 'conf/app.properties', 'lib/app-1.0.0.jar', repacked]) {
        expect([rel, ownerOf(`${dir}/${rel}`)]).toEqual([rel, `${user}:${group}`]);
      }
      expect(started(dir)).toBe(`1.0.0 ${user}`);
      expect(ownerOf(`${dir}/started`)).toBe(`${user}:${group}`);
      expect(readdirSync(dir).filter((n) => n.startsWith('.saltstack'))).toEqual([]);
      expect(existsSync(snapshotOf(dir))).toBe(false);
      // logFileTrade: the *.log files under the install directory
      expect(o['logFileTrade']).toBe(`${dir}/logs/app-1.0.0.log`);
    }
    expect(eventLines(a)).toEqual([`start 1.0.0 ${user} --mode blue green`]);
    expect(eventLines(b)).toEqual([`start 1.0.0 ${user2}`]);
  });

  it('update: stops v1, clears clearPath, unpacks v2, starts it; on both minions', async () => {
    writeFileSync(`${a}/logs/keep-me-not.txt`, 'x');
    const outs = await deploy(update, [
      {
        guid: 'a',
        target: m0,
        destinationPath: a,
        stopScript: 'bin/stop.sh',
        clearPath: 'logs/,cache',
        ...app('2.0.0'),
        signFileSrc: packages['sig']!.url,
        signFileDst: 'sign/app.sig',
      },
      {
        guid: 'b',
        target: m1,
        destinationPath: b,
        stopScript: `${b}/bin/stop.sh`,
        clearPath: `${b}/cache`,
        ...app('2.0.0', 'v2', m1),
        startScript: `${b}/bin/start.sh`,
      },
    ]);
    expect(outs.map((o) => [o['guid'], o['errorCode'], o['errorMessage']])).toEqual([
      ['a', '0', ''],
      ['b', '0', ''],
    ]);
    for (const [o, dir, host] of [
      [outs[0]!, a, m0],
      [outs[1]!, b, m1],
    ] as const) {
      const { user } = userOn(host);
      expect(o).toMatchObject({ retCode: 0, runStopScriptDetail: 'stopped 1.0.0', runStartScriptDetail: `started 2.0.0 as ${user}` });
      expect(o['fileDetail']).toMatch(/^\{"return": \[\{".*": "[0-9a-f]{32}"\}\]\}$/);
      expect(eventLines(dir)).toEqual([`start 1.0.0 ${user}${dir === a ? ' --mode blue green' : ''}`, `stop 1.0.0 ${user}`, `start 2.0.0 ${user}`]);
      expect(conf(dir)).toBe('version=2.0.0\nname=demo\n');
      expect(started(dir)).toBe(`2.0.0 ${user}`);
      // v2's own files; v1's lib stays (a package is unpacked over the install, as upstream)
      expect(readFileSync(`${dir}/lib/app-2.0.0.jar`, 'utf8')).toBe('jar 2.0.0\n');
      expect(existsSync(`${dir}/cache/1.0.0.bin`)).toBe(false);
      expect(existsSync(`${dir}/cache/2.0.0.bin`)).toBe(true);
      expect(existsSync(snapshotOf(dir))).toBe(false);
    }
    // a: logs/ emptied (then v2 logged); b: logs not cleared
    expect(readdirSync(`${a}/logs`).sort()).toEqual(['app-2.0.0.log']);
    expect(readdirSync(`${b}/logs`).sort()).toEqual(['app-1.0.0.log', 'app-2.0.0.log']);
    expect(outs[0]!['logFileTrade']).toBe(`${a}/logs/app-2.0.0.log`);
    // the sign file: relative to the install directory, owned by the user; fileDetail is its md5 (as upstream)
    expect(readFileSync(`${a}/sign/app.sig`, 'utf8')).toBe('signature v2\n');
    expect(ownerOf(`${a}/sign/app.sig`)).toBe(`${user}:${group}`);
    expect(outs[0]!['fileDetail']).toBe(`{"return": [{"${m0}": "${md5('signature v2\n')}"}]}`);
  });

  it('update: a stop script that fails changes nothing and rolls nothing back', async () => {
    const missing = dirOf('missing');
    const outs = await deploy(update, [
      { guid: 'nostop', target: m0, destinationPath: missing, stopScript: 'bin/stop.sh', ...app('2.0.0') },
      { guid: 'ghost', target: UNKNOWN, destinationPath: a, stopScript: 'bin/stop.sh', ...app('2.0.0') },
    ]);
    expect(outs[0]).toMatchObject({ errorCode: '1', retCode: 1 });
    expect(outs[0]!['errorMessage']).toMatch(/^Run stop script fail,/);
    expect(outs[1]!['errorMessage']).toMatch(/^Run stop script fail,Cannot connect to target/);
    // The package is prepared (and s3PkgPath known) before any host is touched.
    for (const o of outs) expect(o).not.toHaveProperty('rollback');
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(snapshotOf(missing))).toBe(false);
    expect(eventLines(a).at(-1)).toBe(`start 2.0.0 ${user}`);
  });

  it('update: a package missing from S3 fails before the stop: the running version is never stopped', async () => {
    const before = eventLines(a).length;
    const [o] = await deploy(update, [
      {
        guid: 'gone',
        target: m0,
        destinationPath: a,
        stopScript: 'bin/stop.sh',
        ...app('2.0.0'),
        endpoint: packages['v2']!.url.replace('app-2.0.0', 'app-9.9.9'),
        confFiles: '',
      },
    ]);
    expect(o).toMatchObject({ errorCode: '1', retCode: 1 });
    expect(o).not.toHaveProperty('runStopScriptDetail');
    expect(o).not.toHaveProperty('rollback');
    expect(o!['errorMessage']).toMatch(/^Copy file to target fail,/);
    expect(o!['errorMessage']).toContain('app-9.9.9');
    expect(eventLines(a).length).toBe(before);
    expect(started(a)).toBe(`2.0.0 ${user}`);
    expect(conf(a)).toBe('version=2.0.0\nname=demo\n');
    expect(existsSync(snapshotOf(a))).toBe(false);
  });

  it('update: a clearPath leaving the install through a symlink fails the copy; the install is restored and started again', async () => {
    const outside = `${root}-outside`;
    mkdirSync(outside, { recursive: true });
    writeFileSync(`${outside}/precious`, 'keep');
    symlinkSync(outside, `${a}/data`);
    const before = run('find', [a, '-printf', '%P %s\n'])
      .split('\n')
      .filter((l) => !l.startsWith('started '))
      .sort();
    try {
      const [o] = await deploy(update, [
        { guid: 'escape', target: m0, destinationPath: a, stopScript: 'bin/stop.sh', clearPath: 'cache,data/', ...app('3.0.0', 'v2') },
      ]);
      expect(o).toMatchObject({ errorCode: '1', retCode: 1, errorType: 'E_JOB_FAILED' });
      expect(o!['errorMessage']).toMatch(/^Copy file to target fail,/);
      expect(o!['errorMessage']).toContain(`failed on ${m0}: snapshot: keeping the previous install as ${snapshotOf(a)} or clearing clearPath failed`);
      expect(o!['rollback']).toBe(`restored ${a} from its snapshot; previous version started`);
      expect(readFileSync(`${outside}/precious`, 'utf8')).toBe('keep');
      // cache (cleared before the refused entry) is back, the files are v2's, v2 runs again
      expect(readFileSync(`${a}/cache/2.0.0.bin`, 'utf8')).toBe('2.0.0\n');
      expect(conf(a)).toBe('version=2.0.0\nname=demo\n');
      expect(eventLines(a).slice(-2)).toEqual([`stop 2.0.0 ${user}`, `start 2.0.0 ${user}`]);
      expect(
        run('find', [a, '-printf', '%P %s\n'])
          .split('\n')
          .filter((l) => !l.startsWith('started '))
          .sort(),
      ).toEqual(before);
      expect(existsSync(snapshotOf(a))).toBe(false);
    } finally {
      rmSync(`${a}/data`, { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('update: a v3 whose start fails is rolled back: stopped, v2 restored and started again', async () => {
    const before = run('find', [a, '-printf', '%P %s\n'])
      .split('\n')
      .filter((l) => !l.startsWith('started '))
      .sort();
    const [o] = await deploy(update, [{ guid: 'a3', target: m0, destinationPath: a, stopScript: 'bin/stop.sh', clearPath: 'cache', ...app('3.0.0') }]);
    expect(o).toMatchObject({ guid: 'a3', errorCode: '1', retCode: 1, errorType: 'E_JOB_FAILED', runStopScriptDetail: 'stopped 2.0.0' });
    expect(o!['errorMessage']).toMatch(/^Run start script fail,/);
    expect(o!['errorMessage']).toContain('start 3.0.0 refused by FAIL_START');
    expect(o!['errorMessage']).toContain(`; rolled back: new version stopped; restored ${a} from its snapshot; previous version started`);
    expect(o!['rollback']).toBe(`new version stopped; restored ${a} from its snapshot; previous version started`);
    expect(o!['runStartScriptDetail']).toContain('start 3.0.0 refused by FAIL_START');
    // the files are v2's again, v2 runs again
    expect(conf(a)).toBe('version=2.0.0\nname=demo\n');
    expect(existsSync(`${a}/FAIL_START`)).toBe(false);
    expect(existsSync(`${a}/lib/app-3.0.0.jar`)).toBe(false);
    expect(readFileSync(`${a}/cache/2.0.0.bin`, 'utf8')).toBe('2.0.0\n');
    expect(started(a)).toBe(`2.0.0 ${user}`);
    expect(eventLines(a).slice(-3)).toEqual([`stop 2.0.0 ${user}`, `stop 3.0.0 ${user}`, `start 2.0.0 ${user}`]);
    const after = run('find', [a, '-printf', '%P %s\n'])
      .split('\n')
      .filter((l) => !l.startsWith('started '))
      .sort();
    expect(after).toEqual(before);
    expect(existsSync(snapshotOf(a))).toBe(false);
  });

  it('new: a start that fails on a fresh directory leaves no directory behind', async () => {
    const c = dirOf('c');
    const [o] = await deploy(create, [{ guid: 'c', target: m1, destinationPath: c, ...app('3.0.0', 'v3', m1) }]);
    expect(o).toMatchObject({ errorCode: '1', retCode: 1, errorType: 'E_JOB_FAILED' });
    expect(o!['errorMessage']).toMatch(/^Run start script fail,/);
    expect(o!['rollback']).toBe(`removed ${c} (there was no previous install)`);
    expect(o!['errorMessage']).toContain(`; rolled back: removed ${c} (there was no previous install)`);
    expect(existsSync(c)).toBe(false);
    expect(existsSync(snapshotOf(c))).toBe(false);
    expect(eventLines(c)).toEqual([]);
  });

  it('takes shell characters in clearPath literally, refuses them in destinationPath and scripts; never runs them', async () => {
    const odd = [`semi;touch ${canary}`, `subst$(touch ${canary})`, `tick\`touch ${canary}\``, `quote'"x`, `space and $HOME`];
    for (const name of odd) {
      mkdirSync(dirname(`${b}/${name}`), { recursive: true });
      writeFileSync(`${b}/${name}`, 'odd');
    }
    const outs = await deploy(update, [
      { guid: 'clear', target: m1, destinationPath: b, stopScript: 'bin/stop.sh', clearPath: odd.join(','), ...app('2.0.1', 'v2', m1) },
      ...[`${root}/x;touch ${canary}/app`, `${root}/$(touch ${canary})/app`, `${root}/\`touch ${canary}\`/app`, `${root}/it's/app`, `${root}/"q"/app`].map(
        (dest, i) => ({
          guid: `dest${i}`,
          target: m0,
          destinationPath: dest,
          stopScript: 'bin/stop.sh',
          ...app('2.0.1', 'v2'),
        }),
      ),
      { guid: 'script', target: m0, destinationPath: a, stopScript: `bin/stop.sh;touch ${canary}`, ...app('2.0.1', 'v2') },
      { guid: 'args', target: m0, destinationPath: a, stopScript: 'bin/stop.sh', ...app('2.0.1', 'v2'), startScript: `bin/start.sh $(touch ${canary})` },
    ]);
    expect(outs[0]).toMatchObject({ guid: 'clear', errorCode: '0', errorMessage: '' });
    for (const name of odd) expect([name, existsSync(`${b}/${name}`)]).toEqual([name, false]);
    expect(conf(b)).toBe('version=2.0.1\nname=demo\n');
    for (const o of outs.slice(1)) {
      expect([o['guid'], o['errorCode'], o['errorType']]).toEqual([o['guid'], '1', 'E_INPUT']);
      expect(o['errorMessage']).toMatch(/^Parameter (destinationPath|stopScriptPath|startScriptPath) validation failed: /);
      expect(o).not.toHaveProperty('runStopScriptDetail');
    }
    expect(existsSync(canary)).toBe(false);
    // none of the refused install directories was created
    expect(readdirSync(root).filter((n) => !['a', 'b', 'c'].includes(n))).toEqual([]);
    // the refused items on m0 did not stop a's application
    expect(eventLines(a).at(-1)).toBe(`start 2.0.0 ${user}`);
  });

  it('delete: runs the stop script as the user, then removes the install directory', async () => {
    const outs = await deploy(remove, [
      { guid: 'da', target: m0, userName: user, destinationPath: a, stopScript: 'bin/stop.sh' },
      { guid: 'db', target: m1, userName: `${user2}:${group2}`, destinationPath: `${b}/`, stopScript: `${b}/bin/stop.sh` },
      { guid: 'dghost', target: UNKNOWN, userName: user, destinationPath: dirOf('ghost'), stopScript: 'bin/stop.sh' },
    ]);
    expect(outs.map((o) => [o['guid'], o['errorCode']])).toEqual([
      ['da', '0'],
      ['db', '0'],
      ['dghost', '1'],
    ]);
    expect(outs[2]!['errorMessage']).toMatch(/^Run stop script fail,Cannot connect to target/);
    expect(eventLines(a).at(-1)).toBe(`stop 2.0.0 ${user}`);
    expect(eventLines(b).at(-1)).toBe(`stop 2.0.0 ${user2}`);
    for (const dir of [a, b]) {
      expect(existsSync(dir)).toBe(false);
      expect(existsSync(snapshotOf(dir))).toBe(false);
    }
  });

  describe('over HTTP (local server)', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ AUTH_MODE: 'off' });
    });
    afterAll(() => server.stop());

    it('serves the legacy /v1/deploy/apply-deployment/new with upstream JSON field names, and delete at its current path', async () => {
      const d = dirOf('legacy');
      const body = {
        requestId: 'r1',
        inputs: [
          {
            guid: '10010_1',
            callbackParameter: 'cb',
            target: m0,
            endpoint: packages['v1']!.url,
            userName: `${user}:${group}`,
            destinationPath: `${d}/`,
            startScript: `${d}/bin/start.sh`,
            confFiles: 'conf/app.properties',
            variableList: 'app_version=1.0.9',
            args: '',
            seed: 'seed-1',
            logFileTrade: '',
            logFileTrace: '*.log',
            signFileSrc: '',
            signFileDst: '',
          },
        ],
      };
      const { status, body: res } = await postJson(`${server.url}/v1/deploy/apply-deployment/new`, body);
      expect(status).toBe(200);
      expect(res).toMatchObject({ resultCode: '0', resultMessage: 'success' });
      const [o] = res['results'].outputs as Out[];
      noteReplaced([o!]);
      // the user existed: it keeps its password, none is returned
      expect(Object.keys(o!).sort()).toEqual(
        [
          'guid',
          'callbackParameter',
          'target',
          'retCode',
          'userDetail',
          'fileDetail',
          's3PkgPath',
          'runScriptDetail',
          'logFileTrace',
          'errorCode',
          'errorMessage',
        ].sort(),
      );
      expect(o).toMatchObject({
        guid: '10010_1',
        callbackParameter: 'cb',
        target: m0,
        retCode: 0,
        errorCode: '0',
        errorMessage: '',
        runScriptDetail: `started 1.0.0 as ${user}`,
        logFileTrace: `${d}/logs/app-1.0.0.log`,
      });
      expect(conf(d)).toBe('version=1.0.9\nname=demo\n');
      expect(ownerOf(`${d}/conf/app.properties`)).toBe(`${user}:${group}`);

      const deleted = await postJson(`${server.url}/saltstack/v1/apply-deployment/delete`, {
        inputs: [{ guid: '10010_2', target: m0, userName: user, destinationPath: d, stopScript: 'bin/stop.sh' }],
      });
      expect(deleted.body).toEqual({
        resultCode: '0',
        resultMessage: 'success',
        results: { outputs: [{ guid: '10010_2', errorCode: '0', errorMessage: '' }] },
      });
      expect(existsSync(d)).toBe(false);
      expect(eventLines(d)).toEqual([`start 1.0.0 ${user}`, `stop 1.0.0 ${user}`]);
    });

    it('reports a bad item alone over HTTP (validation order and upstream text)', async () => {
      const { status, body } = await postJson(`${server.url}/v1/deploy/apply-deployment/update`, {
        inputs: [{ guid: 'u1', target: m0, endpoint: packages['v2']!.url, userName: user, destinationPath: dirOf('nothing'), stopScript: 'bin/stop.sh' }],
      });
      expect(status).toBe(200);
      expect(body['resultCode']).toBe('1');
      expect(body['results'].outputs).toEqual([{ guid: 'u1', errorCode: '1', errorMessage: 'Parameter startScriptPath can not empty.', errorType: 'E_INPUT' }]);
    });
  });

  it('never logs the package URLs with their presigned signatures', () => {
    expect(capturedLogs.join('\n')).not.toMatch(/X-Amz-Signature=/);
  });
});
