import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { hostFileCopy } from '../../lib/files/host-file-copy-operation.js';
import { hostScriptRun } from '../../lib/scripts/host-script-run-operation.js';
import { hostScriptDeps } from '../../lib/scripts/script-deps.js';
import { hostUserAdd, hostUserDelete } from '../../lib/users/host-user-operations.js';
import { run, runItems, s3, uniqueName } from '../support/hosts.js';
import { APP_PROPERTIES, appStatus, buildReleaseApp, FAIL_HEALTH_MARKER, hostPath, setFailHealth } from '../support/release-app.js';
import { stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime();
const copy = hostFileCopy(rt);
const addUser = hostUserAdd(rt);
const delUser = hostUserDelete(rt);
const runLocal = hostScriptRun(hostScriptDeps(rt), 'run-local');
const [m0, m1] = stackMinions() as [string, string];
const hosts = [m0, m1];
const name = uniqueName('relapp-');
const dest = `/srv/stack-apps/${name}/`;
const user = uniqueName('ra');
const version = `1.0.${Date.now()}`;
const key = `release-app-test/${name}/demo-app-${version}.tgz`;
let uid = -1;
let url = '';

/** Runs bin/<script>.sh of the install on each host as the app user (host-script/run-local). */
const script = (which: 'start' | 'stop' | 'health', on: string[] = hosts) =>
  runItems(
    rt,
    runLocal,
    on.map((target) => ({ guid: `${which}-${target}`, endpoint: `${dest}bin/${which}.sh`, target, runAs: user })),
  ) as Promise<Out[]>;

/** A live process (not a zombie waiting to be reaped). */
const alive = (pid: number) => existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`).length > 0;

beforeAll(async () => {
  expect(stackEnv()['STACK_APPS_MOUNT']).toBe('/srv/stack-apps');
  // one user for both minions: they share /etc/passwd
  const [added] = (await runItems(rt, addUser, [{ guid: 'u', target: m0, userName: user, seed: 'release-app-test' }])) as Out[];
  expect(added).toMatchObject({ errorCode: '0' });
  uid = Number(run('id', ['-u', user]).trim());
  url = await s3().put('artifacts', key, await buildReleaseApp(version));
});

afterAll(async () => {
  for (const host of hosts) {
    const status = await appStatus(host, dest).catch(() => null);
    if (status && alive(status.pid)) process.kill(status.pid, 'SIGKILL');
    setFailHealth(host, false);
    rmSync(hostPath(host, dest), { recursive: true, force: true });
  }
  await runItems(rt, delUser, [{ guid: 'd', target: m0, userName: user }]);
  await s3().remove('artifacts', key);
});

describe('the release test application on the stack minions (a private /srv/stack-apps each)', () => {
  it("unpacks through host-file/copy into each minion's own /srv/stack-apps, modes kept, owned by the app user", async () => {
    const outputs = (await runItems(
      rt,
      copy,
      hosts.map((target) => ({ guid: `copy-${target}`, endpoint: url, target, destinationPath: dest, unpack: 'true', fileOwner: user })),
    )) as Out[];
    expect(outputs.map((o) => [o['target'] ?? '', o['errorCode'], o['errorMessage']])).toEqual(hosts.map(() => ['', '0', '']));
    for (const host of hosts) {
      const dir = hostPath(host, dest);
      expect(dir).toBe(`${stackEnv()['STACK_HOSTS_DIR']}/${host}/apps/${name}/`);
      expect(readFileSync(`${dir}VERSION`, 'utf8')).toBe(version);
      expect(readFileSync(`${dir}conf/app.properties`, 'utf8')).toBe(APP_PROPERTIES);
      for (const s of ['start', 'stop', 'health']) expect((statSync(`${dir}bin/${s}.sh`).mode & 0o777).toString(8)).toBe('755');
      for (const d of ['run', 'logs']) expect(statSync(`${dir}${d}`)).toMatchObject({ uid });
    }
    // not in this (the root) namespace's /srv/stack-apps
    expect(existsSync(`/srv/stack-apps/${name}`)).toBe(false);
  });

  it('starts one server per minion as the app user: its own process, mount namespace and socket', async () => {
    const started = await script('start');
    expect(started.map((o) => [o['target'], o['retCode'], o['errorCode']])).toEqual(hosts.map((h) => [h, 0, '0']));
    expect(started.map((o) => o['detail'])).toEqual([expect.stringMatching(/^app .* started \(pid \d+\)$/), expect.stringMatching(/started/)]);

    const [a, b] = await Promise.all(hosts.map((h) => appStatus(h, dest)));
    for (const s of [a, b]) expect(s).toEqual({ version, conf: APP_PROPERTIES, pid: expect.any(Number) });
    expect(a!.pid).not.toBe(b!.pid);
    for (const [host, s] of [
      [m0, a],
      [m1, b],
    ] as const) {
      expect(readFileSync(hostPath(host, `${dest}run/app.pid`), 'utf8').trim()).toBe(String(s!.pid));
      expect(statSync(`/proc/${s!.pid}`).uid).toBe(uid);
    }
    const ns = (pid: number | 'self') => readlinkSync(`/proc/${pid}/ns/mnt`);
    expect(new Set([ns('self'), ns(a!.pid), ns(b!.pid)]).size).toBe(3);

    // idempotent: a second start leaves the running server alone
    const again = await script('start');
    expect(again.map((o) => o['detail'])).toEqual([`app ${version} already running (pid ${a!.pid})`, `app ${version} already running (pid ${b!.pid})`]);
  });

  it('health passes on both; the .fail-health marker of one host fails that host only', async () => {
    const healthy = await script('health');
    expect(healthy.map((o) => [o['retCode'], o['detail']])).toEqual(
      hosts.map(() => [0, expect.stringMatching(new RegExp(`^healthy: version ${version.replace(/\./g, '\\.')}, pid \\d+$`))]),
    );

    setFailHealth(m1, true);
    expect(existsSync(hostPath(m1, FAIL_HEALTH_MARKER))).toBe(true);
    const marked = await script('health');
    expect(marked[0]).toMatchObject({ target: m0, retCode: 0, errorCode: '0' });
    expect(marked[1]).toMatchObject({ target: m1, retCode: 1, errorCode: '1', detail: `unhealthy: ${FAIL_HEALTH_MARKER} exists` });

    setFailHealth(m1, false);
    expect((await script('health', [m1]))[0]).toMatchObject({ retCode: 0 });
  });

  it('stops the servers (socket gone, process gone), and stop is idempotent', async () => {
    const before = await Promise.all(hosts.map((h) => appStatus(h, dest)));
    const stopped = await script('stop');
    expect(stopped.map((o) => [o['retCode'], o['detail']])).toEqual(before.map((s) => [0, `app stopped (pid ${s!.pid})`]));
    for (const [i, host] of hosts.entries()) {
      expect(await appStatus(host, dest)).toBeNull();
      expect(alive(before[i]!.pid)).toBe(false);
      expect(existsSync(hostPath(host, `${dest}run/app.pid`))).toBe(false);
    }
    expect((await script('stop')).map((o) => [o['retCode'], o['detail']])).toEqual(hosts.map(() => [0, 'app not running']));
    expect((await script('health', [m0]))[0]).toMatchObject({ retCode: 1, detail: expect.stringContaining('unhealthy: no answer on run/app.sock') });
  });
});
