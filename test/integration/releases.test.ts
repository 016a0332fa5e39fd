import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { releaseStart, releaseStatus } from '../../lib/releases/release-api.js';
import { ReleaseStore } from '../../lib/releases/release-store.js';
import type { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { run, s3, uniqueName } from '../support/hosts.js';
import { appStatus, buildReleaseApp, hostPath, removeReleaseApps } from '../support/release-app.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackCommand, stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime({ RELEASE_RUNNER: 'local', RELEASE_POLL_SECONDS: '1' });
const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };
const [m0, m1] = stackMinions() as [string, string];
const apps = stackEnv()['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
const name = uniqueName('rel');
const dest = `${apps}/${name}/`;
const user = uniqueName('relu');
const bucket = stackEnv()['S3_BUCKET']!;
const keys: string[] = [];
const PASSWORD = `Pw-${uniqueName('')}-secret`;
const store = s3();
let v1 = '';
let v2 = '';

const upload = async (key: string, body: Buffer | string) => {
  keys.push(key);
  return store.put(bucket, key, body);
};

const release = (fields: Record<string, unknown>) => ({
  name,
  confFiles: 'conf/app.properties',
  variableList: 'app_version=conf-1, greeting=hello',
  destinationPath: dest,
  userName: `${user}:${user}`,
  startScript: 'bin/start.sh',
  stopScript: 'bin/stop.sh',
  healthScript: 'bin/health.sh',
  targets: [m0, m1],
  ...fields,
});

/** Starts a release through release/start and waits for its execution to end. */
async function runRelease(fields: Record<string, unknown>) {
  const [started] = await runOperation(releaseStart(rt), [release(fields)], ctx);
  expect(started).toMatchObject({ errorCode: '0' });
  const { port } = await rt.releaseRunner();
  const end = await (port as LocalStepFunctions).settled(String(started!['executionArn']));
  const [status] = await runOperation(releaseStatus(rt), [{ releaseId: started!['releaseId'] }], ctx);
  return { started: started!, end, status: status! as Out };
}

const hostOf = (status: Out, host: string) => (status['hosts'] as Out[]).find((h) => h['host'] === host);
const failMarker = (host: string) => hostPath(host, `${apps}/.fail-health`);

beforeAll(async () => {
  v1 = await upload(`releases-test/${name}/app-1.0.tgz`, await buildReleaseApp('1.0'));
  v2 = await upload(`releases-test/${name}/app-2.0.tgz`, await buildReleaseApp('2.0'));
});

afterAll(async () => {
  for (const host of [m0, m1]) rmSync(failMarker(host), { force: true });
  await removeReleaseApps(rt.salt(), [m0, m1], [dest], user);
  for (const key of keys) await store.remove(bucket, key);
});

describe('a release through the state machine (the ASL run in-process, real tasks, real minions)', () => {
  it('new: deploys v1 to both hosts, substitutes the variables, starts and health-checks it, keeps no snapshot', async () => {
    // batchSize 1: the stack's minions share this machine's /etc/passwd and concurrent useradds of one name race
    const { end, status } = await runRelease({ mode: 'new', endpoint: v1, password: PASSWORD, strategy: { batchSize: 1 } });
    expect(end.status).toBe('SUCCEEDED');
    expect(status).toMatchObject({ status: 'SUCCEEDED', result: 'SUCCEEDED' });
    expect(hostOf(status, m0)).toMatchObject({ state: 'succeeded' });
    expect(hostOf(status, m1)).toMatchObject({ state: 'succeeded' });
    const [a, b] = [await appStatus(m0, dest), await appStatus(m1, dest)];
    expect(a?.version).toBe('1.0');
    expect(b?.version).toBe('1.0');
    expect(a!.pid).not.toBe(b!.pid); // two hosts, two processes, two private install dirs
    expect(a!.conf).toContain('version=conf-1');
    expect(a!.conf).toContain('greeting=hello');
    expect(run('stat', ['-c', '%U:%G', hostPath(m0, `${dest}VERSION`)]).trim()).toBe(`${user}:${user}`);
    expect(existsSync(hostPath(m0, dest.replace(/\/$/, '.saltstack-previous')))).toBe(false);

    // another process (a restarted npm start) has no such local execution: the records still tell the outcome
    const [again, unknown] = await runOperation(
      releaseStatus(stackRuntime({ RELEASE_RUNNER: 'local' })),
      [{ releaseId: status['releaseId'] }, { releaseId: 'no-such-release' }],
      ctx,
    );
    expect(unknown).toMatchObject({ errorCode: '1', errorType: 'E_RELEASE_NOT_FOUND' });
    expect(again).toMatchObject({ errorCode: '0', status: 'SUCCEEDED', result: 'SUCCEEDED' });
    expect((again!['hosts'] as Out[]).map((h) => h['state'])).toEqual(['succeeded', 'succeeded']);
  });

  it('update with batchSize 1: v2 fails its health check on one host, which runs v1 again; the other runs v2', async () => {
    writeFileSync(failMarker(m1), 'fail the health check here\n');
    try {
      const pidBefore = (await appStatus(m1, dest))!.pid;
      const { end, status } = await runRelease({
        mode: 'update',
        endpoint: v2,
        variableList: 'app_version=conf-2, greeting=hello',
        strategy: { batchSize: 1, maxFailures: 1 },
      });
      expect(end.status).toBe('FAILED');
      expect(end.error).toBe('ReleaseRolledBack');
      expect(end.cause).toContain(`${m1} rolled-back at health`);
      expect(status).toMatchObject({ status: 'FAILED', result: 'ROLLED_BACK' });
      expect(hostOf(status, m0)).toMatchObject({ state: 'succeeded' });
      expect(hostOf(status, m1)).toMatchObject({ state: 'rolled-back', step: 'health' });
      expect(hostOf(status, m1)!['error']).toContain('HealthCheckFailedError');
      expect(hostOf(status, m1)!['rollback']).toContain('restored');
      expect(hostOf(status, m1)!['rollback']).toContain('previous version started');

      const [a, b] = [await appStatus(m0, dest), await appStatus(m1, dest)];
      expect(a?.version).toBe('2.0');
      expect(a!.conf).toContain('version=conf-2');
      expect(b?.version).toBe('1.0'); // v1's files are back and v1 runs again, as a new process
      expect(b!.conf).toContain('version=conf-1');
      expect(b!.pid).not.toBe(pidBefore);
      expect(readFileSync(hostPath(m1, `${dest}VERSION`), 'utf8').trim()).toBe('1.0');
      expect(existsSync(hostPath(m1, dest.replace(/\/$/, '.saltstack-previous')))).toBe(false);
    } finally {
      rmSync(failMarker(m1), { force: true });
    }
  });

  it('error budget: with maxFailures 0 the first failed host stops the release; the next host is never touched', async () => {
    writeFileSync(failMarker(m0), 'fail\n');
    try {
      const before = (await appStatus(m1, dest))!;
      const { end, status } = await runRelease({ mode: 'update', endpoint: v2, targets: [m0, m1], strategy: { batchSize: 1, maxFailures: 0 } });
      expect(end.error).toBe('ReleaseRolledBack');
      expect(hostOf(status, m0)).toMatchObject({ state: 'rolled-back' });
      expect(hostOf(status, m1)).toMatchObject({ state: 'skipped' });
      expect((await appStatus(m0, dest))?.version).toBe('2.0'); // rolled back to what it ran: v2
      expect(await appStatus(m1, dest)).toEqual(before); // same process, same version: untouched
    } finally {
      rmSync(failMarker(m0), { force: true });
    }
  });

  it('waits out salt-api being down in the middle of a release (transient errors retried by name), then finishes', async () => {
    const [started] = await runOperation(releaseStart(rt), [release({ mode: 'update', endpoint: v1, strategy: { batchSize: 2 } })], ctx);
    expect(started).toMatchObject({ errorCode: '0' });
    const releaseId = String(started!['releaseId']);
    await new Promise((r) => setTimeout(r, 500));
    // salt-api goes away (its processes killed) until a host step has failed on it, then comes back
    const env = stackEnv();
    const records = new ReleaseStore(rt.store, bucket, rt.config.releases.prefix);
    let failedOn: string | undefined;
    try {
      run('pkill', ['-KILL', '-f', `${env['SALT_VENV']}/bin/salt-api -c ${env['SALT_MASTER_CONFIG_DIR']}`]);
      const deadline = Date.now() + 30_000;
      while (!failedOn && Date.now() < deadline) {
        for (const host of [m0, m1]) {
          const record = await records.getHost(releaseId, host);
          if (record?.error?.includes('salt-api')) failedOn = `${host} at ${record.step}: ${record.error}`;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await stackCommand('up');
    }
    expect(failedOn).toEqual(expect.stringContaining('salt-api'));
    const { port } = await rt.releaseRunner();
    const end = await (port as LocalStepFunctions).settled(String(started!['executionArn']));
    expect([end.status, end.cause]).toEqual(['SUCCEEDED', undefined]);
    expect((await appStatus(m0, dest))?.version).toBe('1.0');
    expect((await appStatus(m1, dest))?.version).toBe('1.0');
  });

  it('refuses a bad request before anything starts, naming the field', async () => {
    const outputs = await runOperation(
      releaseStart(rt),
      [
        release({ endpoint: v1, targets: [] }),
        release({ endpoint: v1, destinationPath: '/srv' }),
        release({ endpoint: v1, mode: 'update', stopScript: '' }),
        release({ endpoint: v1, targets: [m0, '10.255.255.7'] }),
      ],
      ctx,
    );
    expect(outputs.map((o) => o['errorCode'])).toEqual(['1', '1', '1', '1']);
    expect(outputs[3]!['errorMessage']).toBe('Parameter targets validation failed: not known to the master (no accepted key): 10.255.255.7');
    expect(outputs[0]!['errorMessage']).toBe('Parameter targets can not empty.');
    expect(outputs[1]!['errorMessage']).toContain('destinationPath');
    expect(outputs[2]!['errorMessage']).toBe('Parameter stopScript can not empty.');
  });
});

describe('release manifests uploaded to the S3 server (npm start)', () => {
  // The stack's S3 server names the uploader AWS:<access key id> (scripts/stack/s3-server.cjs); the tests
  // upload with the stack's key. `strict` takes another prefix, where that uploader is not on its list.
  const uploader = `AWS:${stackEnv()['S3_ACCESS_KEY']}`;
  let server: RunningServer;
  let strict: RunningServer;
  beforeAll(async () => {
    [server, strict] = await Promise.all([
      startServer({ RELEASE_POLL_SECONDS: '1', RELEASE_MANIFEST_PREFIX: 'releases/', RELEASE_UPLOADERS: uploader }),
      startServer({ RELEASE_POLL_SECONDS: '1', RELEASE_MANIFEST_PREFIX: 'releases-strict/', RELEASE_UPLOADERS: 'AWS:SOMEONE-ELSE' }),
    ]);
  });
  afterAll(async () => Promise.all([server?.stop(), strict?.stop()]));

  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, seconds = 120): Promise<T> => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const value = await fn();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const readObject = async (key: string): Promise<Out | undefined> => {
    try {
      const { body } = await store.store.get({ bucket, key, url: key });
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Out;
    } catch {
      return undefined;
    }
  };

  it('starts a release from a manifest (package by key), once even when the same upload is notified twice', async () => {
    const manifestKey = `releases/${name}/deploy.release.json`;
    const resultKey = `releases/${name}/deploy.release-result.json`;
    keys.push(resultKey);
    const manifest = JSON.stringify(
      release({ mode: 'update', endpoint: undefined, packageKey: `releases-test/${name}/app-1.0.tgz`, strategy: { batchSize: 2 } }),
    );
    await upload(manifestKey, manifest);
    const result = await waitFor('the manifest result object', () => readObject(resultKey));
    expect(result).toMatchObject({ status: 'STARTED', manifest: manifestKey });
    const releaseId = String(result['releaseId']);
    const status = await waitFor('the release to end', async () => {
      const response = await postJson(`${server.url}/saltstack/v1/release/status`, { inputs: [{ releaseId }] });
      const out = (response.body as Out)['results']['outputs'][0] as Out;
      return out['status'] === 'RUNNING' ? undefined : out;
    });
    expect(status).toMatchObject({ status: 'SUCCEEDED', result: 'SUCCEEDED' });
    expect((await appStatus(m0, dest))?.version).toBe('1.0');
    expect((await appStatus(m1, dest))?.version).toBe('1.0');

    // the same bytes again: same key and ETag, same release id; nothing new starts
    await upload(manifestKey, manifest);
    await waitFor('the duplicate to be seen', async () => (server.output().includes('nothing started') ? true : undefined), 30);
    const started = server
      .output()
      .split('\n')
      .filter((l) => l.includes('"release started"') && l.includes(releaseId));
    expect(started).toHaveLength(1);
  });

  it('refuses an invalid manifest: a result object says why, and no release starts', async () => {
    const manifestKey = `releases/${name}/broken.release.json`;
    const resultKey = `releases/${name}/broken.release-result.json`;
    keys.push(resultKey);
    await upload(manifestKey, JSON.stringify(release({ targets: undefined })));
    const result = await waitFor('the manifest result object', () => readObject(resultKey));
    expect(result).toMatchObject({ status: 'INVALID', error: 'Parameter targets can not empty.' });
    await upload(`releases/${name}/not-json.release.json`, '{ not json');
    keys.push(`releases/${name}/not-json.release-result.json`);
    const notJson = await waitFor('the result of a non-JSON manifest', () => readObject(`releases/${name}/not-json.release-result.json`));
    expect(notJson).toMatchObject({ status: 'INVALID' });
    expect(String(notJson['error'])).toContain('not JSON');
  });

  // Each refused manifest deploys into a directory of its own: that it does not exist on either host shows
  // that nothing ran there (the guard broken, the release would create it).
  const untouched = (dir: string) => {
    for (const host of [m0, m1]) expect(existsSync(hostPath(host, dir))).toBe(false);
  };
  const startedFor = (out: string, key: string) => out.split('\n').filter((l) => l.includes('"release started"') && l.includes(key));

  it('ignores a manifest outside the manifest prefix: no result object, no release, no host touched', async () => {
    const outside = `${apps}/${name}-outside/`;
    const manifestKey = `releases-test/${name}/outside.release.json`;
    keys.push(`releases-test/${name}/outside.release-result.json`);
    await upload(manifestKey, JSON.stringify(release({ endpoint: v1, destinationPath: outside })));
    await waitFor('the manifest to be ignored', async () => (server.output().includes(manifestKey) ? true : undefined), 30);
    expect(server.output()).toContain('release manifest ignored');
    await new Promise((r) => setTimeout(r, 2000)); // what a start would have written by now
    expect(await readObject(`releases-test/${name}/outside.release-result.json`)).toBeUndefined();
    expect(startedFor(server.output() + strict.output(), 'outside')).toEqual([]);
    untouched(outside);
  });

  it('refuses a manifest naming a package in another bucket: the reason in the result object, no host touched', async () => {
    const other = `${name}-other`;
    await store.createBucket(other);
    await store.put(other, 'app-1.0.tgz', await buildReleaseApp('1.0')); // a real package: only the guard stops it
    const elsewhere = `${apps}/${name}-elsewhere/`;
    const manifestKey = `releases/${name}/elsewhere.release.json`;
    const resultKey = `releases/${name}/elsewhere.release-result.json`;
    keys.push(resultKey);
    try {
      await upload(manifestKey, JSON.stringify(release({ endpoint: `s3://${other}/app-1.0.tgz`, destinationPath: elsewhere })));
      const result = await waitFor('the manifest result object', () => readObject(resultKey));
      expect(result).toMatchObject({ status: 'REFUSED', manifest: manifestKey });
      expect(String(result['error'])).toContain(`may only name packages in that bucket, not in ${other}`);
      expect(result['releaseId']).toBeUndefined();
      await new Promise((r) => setTimeout(r, 2000));
      expect(startedFor(server.output(), 'elsewhere')).toEqual([]);
      untouched(elsewhere);
    } finally {
      await store.remove(other, 'app-1.0.tgz');
    }
  });

  it('refuses a manifest from an uploader not on RELEASE_UPLOADERS, without reading it; no host touched', async () => {
    const intruded = `${apps}/${name}-intruded/`;
    const manifestKey = `releases-strict/${name}/deploy.release.json`;
    const resultKey = `releases-strict/${name}/deploy.release-result.json`;
    keys.push(resultKey);
    await upload(manifestKey, JSON.stringify(release({ endpoint: v1, destinationPath: intruded })));
    const result = await waitFor('the manifest result object', () => readObject(resultKey));
    expect(result).toMatchObject({ status: 'REFUSED', manifest: manifestKey });
    expect(String(result['error'])).toContain(`uploader "${uploader}" is not in RELEASE_UPLOADERS`);
    await new Promise((r) => setTimeout(r, 2000));
    expect(startedFor(server.output() + strict.output(), 'releases-strict')).toEqual([]);
    untouched(intruded);
  });

  it('never logs the variables or the password of a release', () => {
    const logs = capturedLogs.join('\n') + server.output() + strict.output();
    expect(logs).not.toContain('greeting=hello');
    expect(logs).not.toContain(PASSWORD);
  });
});
