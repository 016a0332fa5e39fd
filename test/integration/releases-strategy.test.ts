/**
 * Release strategies on the real stack (the ASL run in-process, real tasks, the stack's two minions): an
 * explicit canary plan, percentages in the start reply, minHealthy stopping a failing release, release/stop
 * in the middle of a release. Each test checks the hosts themselves (installed version, running process).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { releaseStart, releaseStatus, releaseStop } from '../../lib/releases/release-api.js';
import type { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { ReleaseStore } from '../../lib/releases/release-store.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { s3, uniqueName } from '../support/hosts.js';
import { appStatus, buildReleaseApp, hostPath, removeReleaseApps } from '../support/release-app.js';
import { stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime({ RELEASE_RUNNER: 'local', RELEASE_POLL_SECONDS: '1' });
const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };
const [m0, m1] = stackMinions() as [string, string];
const apps = stackEnv()['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
const name = uniqueName('rels');
const dest = `${apps}/${name}/`;
const user = uniqueName('relsu');
const bucket = stackEnv()['S3_BUCKET']!;
const keys: string[] = [];
const store = s3();
const records = new ReleaseStore(rt.store, bucket, rt.config.releases.prefix);
let v1 = '';
let v2 = '';

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

const start = async (fields: Record<string, unknown>) => (await runOperation(releaseStart(rt), [release(fields)], ctx))[0]! as Out;
const settle = async (started: Out) => {
  const { port } = await rt.releaseRunner();
  return (port as LocalStepFunctions).settled(String(started['executionArn']));
};
const statusOf = async (releaseId: string) => (await runOperation(releaseStatus(rt), [{ releaseId }], ctx))[0]! as Out;
const hostOf = (status: Out, host: string) => (status['hosts'] as Out[]).find((h) => h['host'] === host);
const failMarker = (host: string) => hostPath(host, `${apps}/.fail-health`);

const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, seconds = 60): Promise<T> => {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

beforeAll(async () => {
  for (const [v, body] of [
    ['1.0', await buildReleaseApp('1.0')],
    ['2.0', await buildReleaseApp('2.0')],
  ] as const) {
    const key = `releases-test/${name}/app-${v}.tgz`;
    keys.push(key);
    const url = await store.put(bucket, key, body);
    if (v === '1.0') v1 = url;
    else v2 = url;
  }
});

afterAll(async () => {
  for (const host of [m0, m1]) rmSync(failMarker(host), { force: true });
  await removeReleaseApps(rt.salt(), [m0, m1], [dest], user);
  for (const key of keys) await store.remove(bucket, key);
});

describe('release strategies on the real stack', () => {
  it('a ["1", "100%"] plan releases one host, then the other once the first is done; the reply tells the plan', async () => {
    const started = await start({ mode: 'new', endpoint: v1, strategy: { batches: ['1', '100%'] } });
    expect(started).toMatchObject({ errorCode: '0', plan: { hosts: 2, batches: [1, 1], maxFailures: 0, minHealthy: 0 } });
    const end = await settle(started);
    expect(end.status).toBe('SUCCEEDED');
    const [a, b] = [await appStatus(m0, dest), await appStatus(m1, dest)];
    expect([a?.version, b?.version]).toEqual(['1.0', '1.0']);
    // m0 had committed (its record's last write) before m1's files were unpacked
    const committed = Date.parse((await records.getHost(String(started['releaseId']), m0))!.updatedAt);
    const unpacked = statSync(hostPath(m1, `${dest}VERSION`)).ctimeMs;
    expect(committed).toBeLessThan(unpacked);
    expect(statSync(hostPath(m0, `${dest}VERSION`)).ctimeMs).toBeLessThan(unpacked);
  });

  it('computes percentages of the targets in the start reply, and refuses a plan minHealthy makes impossible, touching nothing', async () => {
    const elsewhere = `${apps}/${name}-refused/`;
    const [ok, refused, mixed] = await runOperation(
      releaseStart(rt),
      [
        release({ mode: 'update', endpoint: v1, strategy: { batchSize: '50%', maxFailures: '50%', minHealthy: '50%' } }),
        release({ mode: 'new', endpoint: v1, destinationPath: elsewhere, strategy: { batchSize: '50%', minHealthy: '100%' } }),
        release({ mode: 'new', endpoint: v1, destinationPath: elsewhere, strategy: { batches: ['1', '100%'], batchSize: 1 } }),
      ],
      ctx,
    );
    expect(ok).toMatchObject({ errorCode: '0', plan: { hosts: 2, batches: [1, 1], maxFailures: 1, minHealthy: 1 } });
    expect(refused).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(refused!['errorMessage']).toBe(
      'Parameter strategy.minHealthy validation failed: "100%" is 2 of the 2 targets, but batch 1 deploys 1 at once, leaving 1 healthy: use smaller batches or a lower minHealthy',
    );
    expect(mixed!['errorMessage']).toContain('Parameter strategy.batches validation failed: batches and batchSize together');
    expect((await settle(ok!)).status).toBe('SUCCEEDED');
    for (const host of [m0, m1]) expect(existsSync(hostPath(host, elsewhere))).toBe(false);
  });

  it('minHealthy stops a failing release within its failure budget: the next host is never touched', async () => {
    writeFileSync(failMarker(m0), 'fail\n');
    try {
      const before = (await appStatus(m1, dest))!;
      const started = await start({ mode: 'update', endpoint: v2, strategy: { batchSize: 1, maxFailures: 1, minHealthy: 1 } });
      expect(started).toMatchObject({ errorCode: '0', plan: { batches: [1, 1], maxFailures: 1, minHealthy: 1 } });
      const end = await settle(started);
      expect(end.error).toBe('ReleaseRolledBack');
      const status = await statusOf(String(started['releaseId']));
      expect(hostOf(status, m0)).toMatchObject({ state: 'rolled-back', step: 'health' });
      expect(hostOf(status, m1)).toMatchObject({ state: 'skipped' });
      expect(hostOf(status, m1)!['error']).toContain('under minHealthy 1');
      expect(status['summary']).toContain('no further batch started: the next batch of 1 would leave 0 healthy host(s), under minHealthy 1');
      expect((await appStatus(m0, dest))?.version).toBe('1.0'); // put back
      expect(await appStatus(m1, dest)).toEqual(before); // same process, same version: untouched
    } finally {
      rmSync(failMarker(m0), { force: true });
    }
  });

  it('release/stop mid-release: the host in flight is put back, the next one never starts, the result is STOPPED', async () => {
    const before = { m0: (await appStatus(m0, dest))!, m1: (await appStatus(m1, dest))! };
    // m0's health check fails until the stop is asked for: its retry (3 s later) would pass, so only the
    // stop can keep m0 off v2 and m1 untouched
    writeFileSync(failMarker(m0), 'fail until stopped\n');
    try {
      const started = await start({ mode: 'update', endpoint: v2, strategy: { batchSize: 1 } });
      const releaseId = String(started['releaseId']);
      await waitFor('m0 failing its first health check', async () => {
        const record = await records.getHost(releaseId, m0);
        return record?.step === 'health' && record.error ? true : undefined;
      });
      const [stop] = await runOperation(releaseStop(rt), [{ releaseId }], ctx);
      expect(stop).toMatchObject({ errorCode: '0', releaseId, status: 'STOPPING' });
      rmSync(failMarker(m0), { force: true });
      const end = await settle(started);
      expect(end.error).toBe('ReleaseStopped');
      const status = await statusOf(releaseId);
      expect(status).toMatchObject({ status: 'FAILED', result: 'STOPPED', stopRequestedAt: stop!['stopRequestedAt'] });
      expect(hostOf(status, m0)).toMatchObject({ state: 'rolled-back' });
      expect(hostOf(status, m0)!['error']).toContain('StopRequestedError');
      expect(hostOf(status, m1)).toMatchObject({ state: 'skipped', error: 'not started: the release was stopped (release/stop)' });
      const after = { m0: (await appStatus(m0, dest))!, m1: await appStatus(m1, dest) };
      expect(after.m0.version).toBe('1.0'); // v1's files back and v1 started again
      expect(after.m0.pid).not.toBe(before.m0.pid);
      expect(after.m1).toEqual(before.m1); // never touched
      // asked again once ended: nothing changes, the result is told
      const [again] = await runOperation(releaseStop(rt), [{ releaseId }], ctx);
      expect(again).toMatchObject({ errorCode: '0', status: 'ENDED', result: 'STOPPED' });
    } finally {
      rmSync(failMarker(m0), { force: true });
    }
  });

  it('release/stop refuses an unknown release and a bad id', async () => {
    const [unknown, bad] = await runOperation(releaseStop(rt), [{ releaseId: 'no-such-release' }, { releaseId: '../x' }], ctx);
    expect(unknown).toMatchObject({ errorCode: '1', errorType: 'E_RELEASE_NOT_FOUND' });
    expect(bad).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
  });
});
