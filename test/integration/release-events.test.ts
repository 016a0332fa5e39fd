/**
 * Release events and release/list on the real stack (the ASL run in-process, real tasks, the stack's two
 * minions). Events go to a real local webhook receiver (node http on 127.0.0.1, every signature verified
 * with the secret) and to a local stand-in for EventBridge speaking its JSON 1.1 protocol: the only part of
 * AWS replaced. The runtime is built by the composition root from settings, as a deployed function's is.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { releaseList } from '../../lib/releases/release-list.js';
import { releaseStart, releaseStatus } from '../../lib/releases/release-api.js';
import { releaseEventSchema, type ReleaseEvent } from '../../lib/releases/release-events.js';
import type { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { ReleaseStore } from '../../lib/releases/release-store.js';
import type { Runtime } from '../../lib/runtime.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { fakeEventBridge, webhookReceiver, type Receiver } from '../support/event-receivers.js';
import { s3, uniqueName } from '../support/hosts.js';
import { appStatus, buildReleaseApp, hostPath, removeReleaseApps } from '../support/release-app.js';
import { capturedLogs, stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const SECRET = `whsec-${uniqueName('')}-0123456789abcdef0123456789`;
const PASSWORD = `Pw-${uniqueName('')}-secret`;
const [m0, m1] = stackMinions() as [string, string];
const apps = stackEnv()['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
const name = uniqueName('relev');
const dest = `${apps}/${name}/`;
// release/list's three releases: each a first install of its own (no order between the tests)
const listDests = [1, 2, 3].map((i) => `${apps}/${name}-l${i}/`);
const user = uniqueName('relevu');
const bucket = stackEnv()['S3_BUCKET']!;
const store = s3();
const keys: string[] = [];
let v1 = '';
let v2 = '';
let hook: Receiver;
let bridge: Receiver;
let rt: Runtime;
// The EventBridge SDK client reads region and credentials from the environment, as on Lambda.
const AWS_ENV = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDSTANDIN', AWS_SECRET_ACCESS_KEY: 'stand-in-secret' };
const savedEnv: Record<string, string | undefined> = {};

const ctx = () => ({ logger: rt.logger, signal: new AbortController().signal, concurrency: 5 });
// This file's own marker, beside its install directory: the global one (FAIL_HEALTH_MARKER) is shared with
// the other release tests. bin/health-here.sh fails while it exists, then runs the app's own health check.
const failMarker = (host: string) => hostPath(host, `${apps}/${name}.fail-health`);
const HEALTH_HERE = {
  name: 'bin/health-here.sh',
  type: 'file' as const,
  mode: 0o755,
  content:
    '#!/bin/bash\nhere="$(cd "$(dirname "$0")/.." && pwd)"\nif [ -e "$here.fail-health" ]; then echo "unhealthy: $here.fail-health exists"; exit 1; fi\nexec "$here/bin/health.sh"\n',
};

const release = (fields: Record<string, unknown>) => ({
  name,
  confFiles: 'conf/app.properties',
  variableList: 'app_version=conf-1, greeting=hello',
  destinationPath: dest,
  userName: `${user}:${user}`,
  password: PASSWORD,
  startScript: 'bin/start.sh',
  stopScript: 'bin/stop.sh',
  healthScript: 'bin/health-here.sh',
  targets: [m0, m1],
  ...fields,
});

async function runRelease(runtime: Runtime, fields: Record<string, unknown>) {
  const [started] = await runOperation(releaseStart(runtime), [release(fields)], ctx());
  expect(started).toMatchObject({ errorCode: '0' });
  const { port } = await runtime.releaseRunner();
  const end = await (port as LocalStepFunctions).settled(String(started!['executionArn']));
  const [status] = await runOperation(releaseStatus(runtime), [{ releaseId: started!['releaseId'] }], ctx());
  return { releaseId: String(started!['releaseId']), end, status: status! as Out };
}

const eventsOf = (receiver: Receiver, releaseId: string, pick: (r: Receiver['received'][number]) => unknown) =>
  receiver.received.map(pick).filter((e): e is ReleaseEvent => (e as ReleaseEvent | undefined)?.release === releaseId);
const webhookEvents = (releaseId: string) => eventsOf(hook, releaseId, (r) => r.json);
const bridgeEvents = (releaseId: string) => eventsOf(bridge, releaseId, (r) => JSON.parse(r.json?.Entries?.[0]?.Detail ?? 'null'));

beforeAll(async () => {
  for (const [k, v] of Object.entries(AWS_ENV)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  [hook, bridge] = await Promise.all([webhookReceiver(SECRET), fakeEventBridge()]);
  rt = stackRuntime({
    RELEASE_RUNNER: 'local',
    RELEASE_POLL_SECONDS: '1',
    RELEASE_WEBHOOK_URL: hook.url,
    RELEASE_WEBHOOK_SECRET: SECRET,
    RELEASE_WEBHOOK_ATTEMPTS: '2',
    RELEASE_EVENT_BUS: 'saltstack-releases',
    EVENTS_ENDPOINT: bridge.url,
  });
  for (const [v, url] of [
    ['1.0', 'v1'],
    ['2.0', 'v2'],
  ] as const) {
    const key = `releases-test/${name}/app-${v}.tgz`;
    keys.push(key);
    const put = await store.put(bucket, key, await buildReleaseApp(v, [HEALTH_HERE]));
    if (url === 'v1') v1 = put;
    else v2 = put;
  }
});

afterAll(async () => {
  for (const host of [m0, m1]) rmSync(failMarker(host), { force: true });
  await removeReleaseApps(rt.salt(), [m0, m1], [dest, ...listDests], user);
  for (const key of keys) await store.remove(bucket, key);
  await Promise.all([hook?.close(), bridge?.close()]);
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('release events on the real stack', () => {
  it('a release with a failing host: the webhook and the EventBridge stand-in get every event, in order, signed', async () => {
    writeFileSync(failMarker(m1), 'fail\n');
    let run: Awaited<ReturnType<typeof runRelease>>;
    try {
      // batches 1 then 1: m0 is released, then m1 fails its health check and is put back
      run = await runRelease(rt, { mode: 'new', endpoint: v1, strategy: { batches: ['1', '100%'], maxFailures: 1 } });
    } finally {
      rmSync(failMarker(m1), { force: true });
    }
    const { releaseId, end, status } = run;
    expect(end.error).toBe('ReleaseRolledBack');
    expect(status).toMatchObject({ result: 'ROLLED_BACK', eventsFailed: 0 });
    // the effects the events tell of, on the hosts
    expect((await appStatus(m0, dest))?.version).toBe('1.0');
    expect(await appStatus(m1, dest)).toBeNull(); // put back: nothing runs, nothing is installed
    expect(existsSync(hostPath(m1, dest))).toBe(false);

    const events = webhookEvents(releaseId);
    expect(events.map((e) => e.type)).toEqual(['release.started', 'release.batch-ended', 'release.host-failed', 'release.batch-ended', 'release.ended']);
    // received in the order of their numbers, each number once, each event valid, each signature verified
    const numbers = events.map((e) => e.sequence);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const e of events) expect(releaseEventSchema.safeParse(e).success).toBe(true);
    const deliveries = hook.received.filter((r) => r.json?.release === releaseId);
    expect(deliveries.every((r) => r.signatureValid)).toBe(true);
    expect(deliveries.map((r) => r.headers['x-saltstack-event'])).toEqual(events.map((e) => e.type));

    expect(events[0]!.detail).toMatchObject({ name, mode: 'new', hosts: 2, batches: [1, 1], maxFailures: 1, source: 'api' });
    expect(events[1]!.detail).toMatchObject({ batch: 1, of: 2, outcomes: { succeeded: 1 }, next: 'next-batch' });
    expect(events[2]!.detail).toMatchObject({ host: m1, batch: 2, step: 'health', state: 'rolled-back' });
    expect((events[2]!.detail as { error: string }).error).toContain('HealthCheckFailedError');
    expect(events[3]!.detail).toMatchObject({ batch: 2, of: 2, outcomes: { rolledBack: 1 }, total: { succeeded: 1, rolledBack: 1 }, next: 'none' });
    expect(events[4]!.detail).toMatchObject({ result: 'ROLLED_BACK', hosts: 2, succeeded: 1, rolledBack: 1, failed: 0, skipped: 0 });

    // EventBridge got the same events, in the same order, as saltstack-plugin events on the bus
    expect(bridgeEvents(releaseId)).toEqual(events);
    const entries = bridge.received.filter((r) => JSON.parse(r.json?.Entries?.[0]?.Detail ?? 'null')?.release === releaseId).map((r) => r.json.Entries[0]);
    expect(entries.map((e: Out) => e['DetailType'])).toEqual([
      'Release Started',
      'Release Batch Ended',
      'Release Host Failed',
      'Release Batch Ended',
      'Release Ended',
    ]);
    expect(entries.every((e: Out) => e['Source'] === 'saltstack-plugin' && e['EventBusName'] === 'saltstack-releases')).toBe(true);
    expect(bridge.received.every((r) => r.headers['x-amz-target'] === 'AWSEvents.PutEvents')).toBe(true);

    // no secret anywhere: not in the events, not in the logs
    const everything = [...hook.received.map((r) => r.body), ...bridge.received.map((r) => r.body), ...capturedLogs].join('\n');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(SECRET);
  });

  it('a webhook answering 500 does not fail the release: the failures are logged and counted (eventsFailed)', async () => {
    hook.answer(500);
    const before = hook.received.length;
    let run: Awaited<ReturnType<typeof runRelease>>;
    try {
      run = await runRelease(rt, { mode: 'update', endpoint: v2, targets: [m0] });
    } finally {
      hook.answer(200);
    }
    const { releaseId, end, status } = run;
    expect(end.status).toBe('SUCCEEDED');
    expect(status).toMatchObject({ result: 'SUCCEEDED' });
    expect((await appStatus(m0, dest))?.version).toBe('2.0');
    // started, batch ended, ended: each tried twice (RELEASE_WEBHOOK_ATTEMPTS=2), each counted once
    const tried = hook.received.slice(before).filter((r) => r.json?.release === releaseId);
    expect(tried.map((r) => r.json.type)).toEqual([
      'release.started',
      'release.started',
      'release.batch-ended',
      'release.batch-ended',
      'release.ended',
      'release.ended',
    ]);
    expect(status['eventsFailed']).toBe(3);
    const records = new ReleaseStore(rt.store, bucket, rt.config.releases.prefix);
    expect((await records.getResult(releaseId))?.eventsFailed).toBe(3);
    // EventBridge still got all of them
    expect(bridgeEvents(releaseId).map((e) => e.type)).toEqual(['release.started', 'release.batch-ended', 'release.ended']);
    const warnings = capturedLogs.filter((l) => l.includes('release event not published') && l.includes(releaseId));
    expect(warnings).toHaveLength(3);
    expect(warnings.join('\n')).toContain('answered HTTP 500 (attempt 2 of 2)');
    expect(warnings.join('\n')).not.toContain(SECRET);
  });
});

describe('release/list on the real stack', () => {
  it('lists three releases just run newest first, and pages through them', async () => {
    const ids: string[] = [];
    for (const [i, endpoint] of [v1, v2, v1].entries()) {
      const run = await runRelease(rt, { mode: 'new', endpoint, destinationPath: listDests[i], targets: [m0] });
      expect(run.status).toMatchObject({ result: 'SUCCEEDED' });
      ids.push(run.releaseId);
    }
    expect((await appStatus(m0, listDests[1]!))?.version).toBe('2.0');
    const list = async (item: Record<string, unknown>) => (await runOperation(releaseList(rt), [item], ctx()))[0]! as Out;
    const first = await list({ limit: 2 });
    expect(first['errorCode']).toBe('0');
    expect((first['releases'] as Out[]).map((r) => r['releaseId'])).toEqual([ids[2], ids[1]]);
    expect(first['releases'][0]).toMatchObject({
      name,
      targets: 1,
      status: 'SUCCEEDED',
      result: 'SUCCEEDED',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    expect(Date.parse(first['releases'][0]['startedAt'])).toBeGreaterThan(Date.parse(first['releases'][1]['startedAt']));
    const second = await list({ limit: 2, nextToken: first['nextToken'] });
    expect(second['releases'][0]['releaseId']).toBe(ids[0]);
    // the earlier releases of this file follow, newest first too
    const all = await list({ limit: 100 });
    const mine = (all['releases'] as Out[]).map((r) => r['releaseId'] as string).filter((id) => id.startsWith(name.replace(/[^A-Za-z0-9_-]+/g, '-')));
    expect(mine.slice(0, 3)).toEqual([ids[2], ids[1], ids[0]]);
    expect(mine.length).toBeGreaterThanOrEqual(3);

    const [unknown] = await runOperation(releaseList(rt), [{ limit: 2, pageSize: 5 }], ctx());
    expect(unknown).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(unknown!['errorMessage']).toContain('Parameter pageSize validation failed: unknown field');
  });
});
