/** release/list over in-memory release records and a runner that knows one execution. */
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { ReleaseNotFoundError } from '../../../lib/errors.js';
import { releaseList } from '../../../lib/releases/release-list.js';
import { listingKey, ReleaseStore } from '../../../lib/releases/release-store.js';
import type { ExecutionDescription } from '../../../lib/releases/step-functions-port.js';
import type { Runtime } from '../../../lib/runtime-types.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { MemoryStore } from '../artifacts/memory-store.js';
import { captureLogger } from '../helpers.js';

type Out = Record<string, any>;

const setup = async () => {
  const store = new MemoryStore();
  const { logger } = captureLogger();
  const described: string[] = [];
  const rt: Runtime = {
    config: loadConfig({
      AUTH_MODE: 'off',
      S3_BUCKET: 'artifacts',
      RELEASE_PREFIX: '.rel/',
      RELEASE_RUNNER: 'aws',
      RELEASE_STATE_MACHINE_ARN: 'arn:aws:states:x:1:stateMachine:release',
    }),
    logger,
    store: () => store,
    salt: () => {
      throw new Error('no salt here');
    },
    releaseRunner: async () => ({
      stateMachineArn: 'arn:aws:states:x:1:stateMachine:release',
      port: {
        startExecution: () => Promise.reject(new Error('unused')),
        describeExecution: async ({ executionArn }) => {
          described.push(executionArn);
          if (executionArn.endsWith(':b-running')) return { status: 'RUNNING' } as ExecutionDescription;
          throw new ReleaseNotFoundError(`Release ${executionArn} not found`);
        },
      },
    }),
    releaseEvents: () => [],
  };
  const records = new ReleaseStore(() => store, 'artifacts', '.rel/');
  await records.putListing({ releaseId: 'a-old', name: 'app 1.0', targets: 2, startedAt: '2026-12-01T10:00:00.000Z' });
  await records.putListing({ releaseId: 'b-running', name: 'app 1.1', targets: 3, startedAt: '2026-12-02T10:00:00.000Z' });
  await records.putListing({ releaseId: 'c-new', targets: 1, startedAt: '2026-12-03T10:00:00.000Z' });
  await records.updateListing('c-new', { result: 'ROLLED_BACK', finishedAt: '2026-12-03T10:05:00.000Z' });
  await records.updateListing('a-old', { result: 'SUCCEEDED', finishedAt: '2026-12-01T10:05:00.000Z' });
  const ctx = { logger, signal: new AbortController().signal, concurrency: 5 };
  const list = async (item: Record<string, unknown>) => (await runOperation(releaseList(rt), [item], ctx))[0]! as Out;
  return { list, described, store };
};

describe('release/list', () => {
  it('lists newest first, with name, targets, status, result, start and end', async () => {
    const { list, described } = await setup();
    const out = await list({});
    expect(out['errorCode']).toBe('0');
    expect(out['releases']).toEqual([
      {
        releaseId: 'c-new',
        targets: 1,
        status: 'FAILED',
        result: 'ROLLED_BACK',
        startedAt: '2026-12-03T10:00:00.000Z',
        finishedAt: '2026-12-03T10:05:00.000Z',
      },
      { releaseId: 'b-running', name: 'app 1.1', targets: 3, status: 'RUNNING', startedAt: '2026-12-02T10:00:00.000Z' },
      {
        releaseId: 'a-old',
        name: 'app 1.0',
        targets: 2,
        status: 'SUCCEEDED',
        result: 'SUCCEEDED',
        startedAt: '2026-12-01T10:00:00.000Z',
        finishedAt: '2026-12-01T10:05:00.000Z',
      },
    ]);
    expect(out['nextToken']).toBeUndefined();
    // the execution is asked about only for the release that has not ended
    expect(described).toEqual(['arn:aws:states:x:1:execution:release:b-running']);
  });

  it('pages by limit and nextToken, to the end', async () => {
    const { list } = await setup();
    const first = await list({ limit: 2 });
    expect((first['releases'] as Out[]).map((r) => r['releaseId'])).toEqual(['c-new', 'b-running']);
    expect(typeof first['nextToken']).toBe('string');
    const second = await list({ limit: '2', nextToken: first['nextToken'] });
    expect((second['releases'] as Out[]).map((r) => r['releaseId'])).toEqual(['a-old']);
    expect(second['nextToken']).toBeUndefined();
  });

  it.each([
    [{ limit: 0 }, 'Parameter limit validation failed: must be an integer from 1 to 100, got "0"'],
    [{ limit: 101 }, 'Parameter limit validation failed: must be an integer from 1 to 100, got "101"'],
    [{ limit: 'ten' }, 'Parameter limit validation failed: must be an integer from 1 to 100, got "ten"'],
    [
      { nextToken: Buffer.from('.rel/a-old/request.json').toString('base64url') },
      'Parameter nextToken validation failed: not a nextToken given by release/list',
    ],
    [{ limt: 5 }, 'Parameter limt validation failed: unknown field, nothing was done (known: guid, callbackParameter, limit, nextToken)'],
  ])('refuses %j', async (item, message) => {
    const { list, store } = await setup();
    const before = store.calls.length;
    const out = await list(item);
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(out['errorMessage']).toContain(message);
    expect(store.calls.slice(before).filter((c) => c.startsWith('list'))).toEqual([]);
  });

  it('sorts index keys newest first, then by id', () => {
    const later = listingKey('.rel/', '2026-12-03T10:00:00.001Z', 'z');
    const earlier = listingKey('.rel/', '2026-12-03T10:00:00.000Z', 'a');
    expect([earlier, later].sort()).toEqual([later, earlier]);
    expect(later).toMatch(/^\.rel\/\.index\/\d{13}_z$/);
  });
});
