/**
 * Releases targeted by salt expressions on the real stack (issue 13): a grain set on one minion, resolved by
 * the master's own matching (cache.grains, no job on any minion) when the release starts, recorded and
 * returned; a compound expression; an expression matching nothing refused before anything is stored or run.
 * Each test checks the hosts themselves: the package on the matched host, nothing on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { releaseStart, releaseStatus } from '../../lib/releases/release-api.js';
import type { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { resolveTargetExpression } from '../../lib/salt/target-expression.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { s3, uniqueName } from '../support/hosts.js';
import { appStatus, buildReleaseApp, hostPath, removeReleaseApps } from '../support/release-app.js';
import { stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime({ RELEASE_RUNNER: 'local', RELEASE_POLL_SECONDS: '1' });
const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };
const [m0, m1] = stackMinions() as [string, string];
const apps = stackEnv()['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
const name = uniqueName('relt');
const user = uniqueName('reltu');
const bucket = stackEnv()['S3_BUCKET']!;
// a grain no other test or host has: only m1 gets it
const grain = `saltagent_${name.replace(/[^a-z0-9]/gi, '_')}`;
const store = s3();
const key = `releases-test/${name}/app-1.0.tgz`;
let v1 = '';

const dirOf = (label: string) => `${apps}/${name}-${label}/`;
const release = (label: string, targets: unknown) => ({
  name: `${name}-${label}`,
  endpoint: v1,
  confFiles: 'conf/app.properties',
  variableList: 'app_version=conf-1, greeting=hello',
  destinationPath: dirOf(label),
  userName: `${user}:${user}`,
  startScript: 'bin/start.sh',
  stopScript: 'bin/stop.sh',
  targets,
});
const start = async (fields: Record<string, unknown>) => (await runOperation(releaseStart(rt), [fields], ctx))[0]! as Out;
const settle = async (started: Out) => {
  const { port } = await rt.releaseRunner();
  return (port as LocalStepFunctions).settled(String(started['executionArn']));
};
/** Sets or removes the grain on a minion, then has it send its grains to the master's cache (pillar refresh). */
const setGrain = async (host: string, value: string | undefined) => {
  const salt = rt.salt();
  if (value === undefined) await salt.local({ fun: 'grains.delkey', arg: [grain], kwarg: { force: true }, tgt: [host], timeout: 30 });
  else await salt.local({ fun: 'grains.setval', arg: [grain, value], tgt: [host], timeout: 30 });
  await salt.local({ fun: 'saltutil.refresh_pillar', kwarg: { wait: true }, tgt: [host], timeout: 60 });
};

beforeAll(async () => {
  v1 = await store.put(bucket, key, await buildReleaseApp('1.0'));
  await setGrain(m1, 'web');
}, 120_000);

afterAll(async () => {
  await setGrain(m1, undefined).catch(() => undefined);
  await removeReleaseApps(rt.salt(), [m0, m1], [dirOf('grain'), dirOf('compound')], user);
  await store.remove(bucket, key);
}, 120_000);

describe('release targets chosen by salt', () => {
  it('resolves a grain expression with the master: exactly the minion that has the grain', async () => {
    expect(await resolveTargetExpression(rt.salt(), { type: 'grain', expression: `${grain}:web` })).toEqual([m1]);
    expect(await resolveTargetExpression(rt.salt(), { type: 'list', expression: `${m0},${m1}` })).toEqual([m0, m1].sort());
  });

  it('releases by grain to the matching host only, and records the expression in the reply and the status', async () => {
    const started = await start(release('grain', { type: 'grain', expression: `${grain}:web` }));
    expect(started).toMatchObject({ errorCode: '0', targets: [m1], targetsFrom: { type: 'grain', expression: `${grain}:web` }, plan: { hosts: 1 } });
    expect((await settle(started)).status).toBe('SUCCEEDED');
    expect((await appStatus(m1, dirOf('grain')))?.version).toBe('1.0');
    expect(existsSync(hostPath(m0, `${dirOf('grain')}VERSION`))).toBe(false);
    const [status] = (await runOperation(releaseStatus(rt), [{ releaseId: started['releaseId'] }], ctx)) as Out[];
    expect(status).toMatchObject({ result: 'SUCCEEDED', targetsFrom: { type: 'grain', expression: `${grain}:web` } });
    expect((status!['hosts'] as Out[]).map((h) => h['host'])).toEqual([m1]);
  }, 180_000);

  it('releases by compound expression: not the grain, within the list, is the other host', async () => {
    const expression = `not G@${grain}:web and L@${m0},${m1}`;
    const started = await start(release('compound', { type: 'compound', expression }));
    expect(started).toMatchObject({ errorCode: '0', targets: [m0], targetsFrom: { type: 'compound', expression } });
    expect((await settle(started)).status).toBe('SUCCEEDED');
    expect((await appStatus(m0, dirOf('compound')))?.version).toBe('1.0');
    expect(existsSync(hostPath(m1, `${dirOf('compound')}VERSION`))).toBe(false);
  }, 180_000);

  it('refuses an expression that matches nothing before anything is stored or run', async () => {
    const refused = await start(release('none', { type: 'grain', expression: `${grain}:nothing` }));
    expect(refused['errorCode']).toBe('1');
    expect(refused['errorMessage']).toMatch(/^Parameter targets validation failed: the grain expression ".*:nothing" matches no minion known to the master/);
    expect(refused['releaseId']).toBeUndefined();
    for (const host of [m0, m1]) expect(existsSync(hostPath(host, dirOf('none')))).toBe(false);
  });
});
