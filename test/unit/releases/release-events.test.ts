/**
 * Release events: their numbering (pure), their shape, the webhook's signature and delivery against a real
 * local receiver, the EventBridge adapter against a local stand-in speaking its protocol, failure isolation
 * (a destination down never fails a task), and what the real tasks publish over an in-memory store.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../../lib/config.js';
import { EventPublishError } from '../../../lib/errors.js';
import { EventBridgeReleaseEvents } from '../../../lib/releases/eventbridge-events.js';
import { publishReleaseEvent } from '../../../lib/releases/publish-release-event.js';
import {
  RELEASE_EVENT_TYPES,
  releaseEvent,
  releaseEventSchema,
  sequence,
  type ReleaseEvent,
  type ReleaseEvents,
} from '../../../lib/releases/release-events.js';
import { ReleaseStore, type ReleaseRecord } from '../../../lib/releases/release-store.js';
import { releaseStop } from '../../../lib/releases/release-api.js';
import { releaseTasks, type ReleaseState } from '../../../lib/releases/release-tasks.js';
import type { ExecutionDescription } from '../../../lib/releases/step-functions-port.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { signWebhook, WebhookReleaseEvents } from '../../../lib/releases/webhook-events.js';
import type { Runtime } from '../../../lib/runtime-types.js';
import { fakeEventBridge, webhookReceiver, type Receiver } from '../../support/event-receivers.js';
import { MemoryStore } from '../artifacts/memory-store.js';
import { captureLogger } from '../helpers.js';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';

/** Every number a plan can give, in the order the events happen. */
function timeline(sizes: number[]): Array<[string, number]> {
  const out: Array<[string, number]> = [['started', sequence.started()]];
  sizes.forEach((size, i) => {
    const b = i + 1;
    out.push([`stopped before batch ${b}`, sequence.stopped(sizes, i)]);
    for (let h = 0; h < size; h++) out.push([`host ${h} of batch ${b} failed`, sequence.hostFailed(sizes, b, h)]);
    out.push([`batch ${b} ended`, sequence.batchEnded(sizes, b)], [`batch ${b} approval`, sequence.approvalWaiting(sizes, b)]);
  });
  out.push(['stopped after the last batch', sequence.stopped(sizes, sizes.length)], ['ended', sequence.ended(sizes)]);
  return out;
}

describe('sequence numbers', () => {
  it.each([[[1]], [[1, 1]], [[1, 4, 5]], [[3, 3, 3, 1]], [[10, 90, 900]]])('over batches %j: distinct, increasing in the order events happen', (sizes) => {
    const numbers = timeline(sizes).map(([, n]) => n);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers[0]).toBe(1);
  });

  it.each([
    ['a release refused before its plan', 3, []],
    ['one batch of 2', 8, [2]],
    ['batches of 1 and 1', 11, [1, 1]],
  ])('the end of %s is numbered %i, after a stop asked for before any batch (2)', (_, ended, sizes) => {
    expect(sequence.ended(sizes)).toBe(ended);
    expect(sequence.stopped(sizes, 0)).toBe(2);
  });

  it('numbers a stop asked for past the last batch before the end, never on it', () => {
    expect(sequence.stopped([2, 2], 5)).toBe(sequence.ended([2, 2]) - 1);
  });
});

describe('the event shape', () => {
  it('is {id, type, release, sequence, time, detail}, its id made from release and number', () => {
    const event = releaseEvent('release.stopped', 'app-1-20261204', 12, { requestedAt: '2026-12-04T10:00:00.000Z' }, new Date('2026-12-04T10:00:01Z'));
    expect(event).toEqual({
      id: 'app-1-20261204:12',
      type: 'release.stopped',
      release: 'app-1-20261204',
      sequence: 12,
      time: '2026-12-04T10:00:01.000Z',
      detail: { requestedAt: '2026-12-04T10:00:00.000Z' },
    });
    expect(releaseEventSchema.safeParse(event).success).toBe(true);
  });

  it('refuses a detail of another type and an unknown field', () => {
    const event = releaseEvent('release.stopped', 'r', 2, { requestedAt: 'x' });
    expect(releaseEventSchema.safeParse({ ...event, type: 'release.ended' }).success).toBe(false);
    expect(releaseEventSchema.safeParse({ ...event, password: 'x' }).success).toBe(false);
  });

  it('has an EventBridge detail-type for every type, approval waits included', () => {
    expect(Object.keys(RELEASE_EVENT_TYPES)).toEqual([
      'release.started',
      'release.batch-ended',
      'release.host-failed',
      'release.approval-waiting',
      'release.stopped',
      'release.ended',
    ]);
    expect(new Set(Object.values(RELEASE_EVENT_TYPES)).size).toBe(6);
  });
});

describe('the webhook signature', () => {
  it('is sha256=<hex HMAC-SHA256 of timestamp "." body> (the value openssl dgst -hmac gives)', () => {
    expect(signWebhook(SECRET, '1700000000', '{"id":"r-1:1"}')).toBe('sha256=26ff67cb6f17fe066ab13004591d84b49d1a571c3d15ef0983f73b8cfce3cb24');
  });

  it('changes with the body, the timestamp and the secret', () => {
    const base = signWebhook(SECRET, '1', 'a');
    expect(signWebhook(SECRET, '1', 'b')).not.toBe(base);
    expect(signWebhook(SECRET, '2', 'a')).not.toBe(base);
    expect(signWebhook(`${SECRET}x`, '1', 'a')).not.toBe(base);
  });
});

const sample = (seq = 1): ReleaseEvent =>
  releaseEvent('release.started', 'app-1', seq, { mode: 'new', hosts: 2, batches: [1, 1], maxFailures: 0, minHealthy: 0, source: 'api' });

describe('WebhookReleaseEvents against a real local receiver', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await webhookReceiver(SECRET);
  });
  afterAll(() => receiver.close());
  const hook = (fields: Partial<ConstructorParameters<typeof WebhookReleaseEvents>[0]> = {}) =>
    new WebhookReleaseEvents({ url: receiver.url, secret: SECRET, timeoutMs: 2000, attempts: 3, backoffMs: () => 10, ...fields });

  it('POSTs the event as JSON, signed, with its type and id in headers; the receiver verifies it', async () => {
    receiver.received.length = 0;
    receiver.answer(200);
    await hook().publish(sample());
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got!.json).toMatchObject({ id: 'app-1:1', type: 'release.started', sequence: 1 });
    expect(got!.signatureValid).toBe(true);
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-saltstack-event']).toBe('release.started');
    expect(got!.headers['x-saltstack-delivery']).toBe('app-1:1');
    expect(Math.abs(Number(got!.headers['x-saltstack-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(got!.body).not.toContain(SECRET);
  });

  it('a receiver verifying with another secret refuses it', async () => {
    const other = await webhookReceiver(`${SECRET}-other`);
    try {
      await new WebhookReleaseEvents({ url: other.url, secret: SECRET, timeoutMs: 2000, attempts: 1 }).publish(sample());
      expect(other.received[0]!.signatureValid).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('tries a 500 again, up to its attempts, then throws EventPublishError naming the origin only', async () => {
    receiver.received.length = 0;
    receiver.answer(500);
    const error = await hook({ url: `${receiver.url}?token=hidden-token` })
      .publish(sample())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).message).toBe(`webhook ${new URL(receiver.url).origin} answered HTTP 500 (attempt 3 of 3)`);
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.json.id))).toEqual(new Set(['app-1:1']));
  });

  it('does not try a 400 again', async () => {
    receiver.received.length = 0;
    receiver.answer(400);
    await expect(hook().publish(sample())).rejects.toThrow('answered HTTP 400 (attempt 1 of 3)');
    expect(receiver.received).toHaveLength(1);
    receiver.answer(200);
  });

  it('gives up on a receiver that does not answer within its timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      const started = Date.now();
      await expect(new WebhookReleaseEvents({ url, secret: SECRET, timeoutMs: 200, attempts: 2, backoffMs: () => 10 }).publish(sample())).rejects.toThrow(
        'no answer within 200 ms (attempt 2 of 2)',
      );
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('does not follow a redirect (the signed event would go elsewhere)', async () => {
    const redirecting = createServer((_, res) => res.writeHead(307, { location: receiver.url }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      receiver.received.length = 0;
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/`;
      await expect(new WebhookReleaseEvents({ url, secret: SECRET, timeoutMs: 2000, attempts: 1 }).publish(sample())).rejects.toThrow('answered HTTP 307');
      expect(receiver.received).toHaveLength(0);
    } finally {
      redirecting.closeAllConnections();
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });
});

describe('EventBridgeReleaseEvents against a local stand-in (JSON 1.1, AWSEvents.PutEvents)', () => {
  let bridge: Receiver;
  beforeAll(async () => {
    bridge = await fakeEventBridge();
  });
  afterAll(() => bridge.close());
  const adapter = () =>
    new EventBridgeReleaseEvents({
      bus: 'releases',
      endpoint: bridge.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    });

  it('sends one entry: the bus, source saltstack-plugin, the detail-type of the event, the event as detail', async () => {
    bridge.received.length = 0;
    bridge.answer(200);
    await adapter().publish(sample(1));
    expect(bridge.received).toHaveLength(1);
    const [request] = bridge.received;
    expect(request!.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(String(request!.headers['authorization'])).toContain('/eu-west-1/events/aws4_request');
    expect(request!.json.Entries).toHaveLength(1);
    const [entry] = request!.json.Entries;
    expect(entry).toMatchObject({ EventBusName: 'releases', Source: 'saltstack-plugin', DetailType: 'Release Started' });
    expect(JSON.parse(entry.Detail)).toMatchObject({ id: 'app-1:1', type: 'release.started', release: 'app-1', sequence: 1 });
  });

  it('translates a refusal into EventPublishError with the error name only', async () => {
    bridge.answer(500);
    const error = await adapter()
      .publish(sample(2))
      .catch((e: unknown) => e);
    bridge.answer(200);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as Error).message).toBe('EventBridge refused the event for bus releases: InternalException (HTTP 500)');
    expect((error as Error).message).not.toContain('stand-in told to fail');
  });
});

/** A destination that records what it got, or fails. */
class Recording implements ReleaseEvents {
  readonly events: ReleaseEvent[] = [];
  constructor(
    readonly target: string,
    private readonly fail = false,
  ) {}
  async publish(event: ReleaseEvent) {
    if (this.fail) throw new EventPublishError(`${this.target} is down`, true);
    this.events.push(event);
  }
}

describe('publishReleaseEvent', () => {
  it('publishes to every destination; one that fails is logged and recorded, the other still gets it, nothing throws', async () => {
    const store = new MemoryStore();
    const records = new ReleaseStore(() => store, 'artifacts', '.rel/');
    const { logger, lines } = captureLogger();
    const ok = new Recording('webhook:http://127.0.0.1:1');
    const down = new Recording('eventbridge:default', true);
    const failed = await publishReleaseEvent({ destinations: [down, ok], records, logger }, sample(1));
    expect(failed).toBe(1);
    expect(ok.events.map((e) => e.id)).toEqual(['app-1:1']);
    expect(await records.countEventFailures('app-1')).toBe(1);
    expect(lines.join('\n')).toContain('release event not published');
    expect(lines.join('\n')).toContain('eventbridge:default is down');
    // the same event failing again (a task retried) is still one failure
    await publishReleaseEvent({ destinations: [down], records, logger }, sample(1));
    expect(await records.countEventFailures('app-1')).toBe(1);
  });

  it('does not throw when even the failure record cannot be written', async () => {
    const records = { putEventFailure: () => Promise.reject(new EventPublishError('S3 down too', true)) };
    const { logger, lines } = captureLogger();
    await expect(publishReleaseEvent({ destinations: [new Recording('x', true)], records, logger }, sample(1))).resolves.toBe(1);
    expect(lines.join('\n')).toContain('release event failure not recorded');
  });
});

describe('what the release tasks publish (real tasks, in-memory records)', () => {
  const setup = (destinations: ReleaseEvents[]) => {
    const store = new MemoryStore();
    const { logger, lines } = captureLogger();
    const config = loadConfig({ AUTH_MODE: 'off', S3_BUCKET: 'artifacts', RELEASE_PREFIX: '.rel/', RELEASE_RUNNER: 'aws' });
    const rt: Runtime = {
      config,
      logger,
      store: () => store,
      salt: () => {
        throw new Error('no salt here');
      },
      // every execution runs (release/stop asks)
      releaseRunner: async () => ({
        stateMachineArn: 'arn:aws:states:x:1:stateMachine:release',
        port: {
          startExecution: () => Promise.reject(new Error('unused')),
          describeExecution: async () => ({ status: 'RUNNING' }) as ExecutionDescription,
        },
      }),
      releaseEvents: () => destinations,
    };
    const records = new ReleaseStore(() => store, 'artifacts', '.rel/');
    return { store, lines, records, rt, tasks: releaseTasks(rt) };
  };
  const batches = [['h1'], ['h2', 'h3']];
  const state = (fields: Partial<ReleaseState>): ReleaseState => ({
    release: { id: 'rel-1', mode: 'new', health: false },
    strategy: { maxFailures: 0, minHealthy: 0, hosts: 3 },
    batchSizes: batches.map((b) => b.length),
    sliceSize: 40,
    cursor: 0,
    slices: [0],
    concurrency: 1,
    tally: { succeeded: 0, rolledBack: 0, failed: 0 },
    done: false,
    ...fields,
  });

  it('Advance: a batch-ended event numbered by the plan, and the batches done recorded for release/stop', async () => {
    const dest = new Recording('r');
    const { tasks, records } = setup([dest]);
    const next = (await tasks.releaseAdvance(state({ results: [{ succeeded: 1, rolledBack: 0, failed: 0, skipped: 0 }] }))) as ReleaseState;
    expect(next.done).toBe(false);
    expect(dest.events).toHaveLength(1);
    expect(dest.events[0]).toMatchObject({
      type: 'release.batch-ended',
      sequence: sequence.batchEnded([1, 2], 1),
      detail: { batch: 1, of: 2, hosts: 1, outcomes: { succeeded: 1, rolledBack: 0, failed: 0, skipped: 0 }, next: 'next-batch' },
    });
    expect(releaseEventSchema.safeParse(dest.events[0]).success).toBe(true);
    expect((await records.getProgress('rel-1'))?.batchesDone).toBe(1);
    // over the budget: the release halts, and says so
    const halted = (await tasks.releaseAdvance(state({ results: [{ succeeded: 0, rolledBack: 1, failed: 0, skipped: 0 }] }))) as ReleaseState;
    expect(halted.done).toBe(true);
    expect(dest.events[1]!.detail).toMatchObject({ next: 'halted', total: { rolledBack: 1 } });
    expect(String((dest.events[1]!.detail as { haltReason?: string }).haltReason)).toContain('maxFailures');
  });

  it('Finish: the result written first, then release.ended (last number) with the counts; a destination down is counted, not fatal', async () => {
    const dest = new Recording('r');
    const down = new Recording('down', true);
    const { tasks, records, store } = setup([dest, down]);
    await records.putRelease('rel-1', {
      targets: ['h1', 'h2', 'h3'],
      batches,
      request: { bucket: 'artifacts', key: '.rel/rel-1/request.json' },
    } as unknown as ReleaseRecord);
    await records.putListing({ releaseId: 'rel-1', name: 'app', targets: 3, startedAt: '2026-12-04T10:00:00.000Z' });
    const now = new Date().toISOString();
    await records.putHost('rel-1', { host: 'h1', state: 'succeeded', done: ['commit'], updatedAt: now });
    await records.putHost('rel-1', {
      host: 'h2',
      state: 'rolled-back',
      step: 'start',
      error: 'JobFailedError: exit 1',
      rollback: 'restored',
      done: [],
      updatedAt: now,
    });
    const out = (await tasks.releaseFinish(state({ cursor: 2, done: true }))) as { status: string };
    expect(out.status).toBe('ROLLED_BACK');
    expect(dest.events).toHaveLength(1);
    expect(dest.events[0]).toMatchObject({
      id: `rel-1:${sequence.ended([1, 2])}`,
      type: 'release.ended',
      sequence: sequence.ended([1, 2]),
      detail: { result: 'ROLLED_BACK', hosts: 3, succeeded: 1, rolledBack: 1, failed: 0, skipped: 1 },
    });
    expect((await records.getResult('rel-1'))?.eventsFailed).toBe(1);
    expect(await records.getListing('rel-1')).toMatchObject({ result: 'ROLLED_BACK', finishedAt: expect.any(String) });
    // the result was written before the event went out: a receiver asking release/status finds it
    const calls = store.calls.filter((c) => c.includes('rel-1/result.json') || c.includes('events-failed'));
    expect(calls[0]).toBe('put artifacts/.rel/rel-1/result.json');
  });

  it('Finish of a release refused before its plan: release.ended PREPARE_FAILED, numbered after a stop', async () => {
    const dest = new Recording('r');
    const { tasks } = setup([dest]);
    await tasks.releaseFinish({ release: { id: 'rel-2' }, prepareError: { Error: 'InputError', Cause: 'bad package' } } as never);
    expect(dest.events[0]).toMatchObject({ type: 'release.ended', sequence: 3, detail: { result: 'PREPARE_FAILED', hosts: 0 } });
  });

  it('release/stop: release.stopped numbered before anything of the batch running, once however often it is asked', async () => {
    const dest = new Recording('r');
    const { rt, records, lines } = setup([dest]);
    await records.putRelease('rel-1', { targets: ['h1', 'h2', 'h3'], batches } as unknown as ReleaseRecord);
    await records.putProgress('rel-1', { batchesDone: 1, at: new Date().toISOString() });
    const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 1 };
    const [first] = await runOperation(releaseStop(rt), [{ releaseId: 'rel-1' }], ctx);
    expect(first).toMatchObject({ errorCode: '0', status: 'STOPPING' });
    expect(dest.events).toHaveLength(1);
    expect(dest.events[0]).toMatchObject({
      type: 'release.stopped',
      sequence: sequence.stopped([1, 2], 1),
      detail: { requestedAt: first!['stopRequestedAt'] },
    });
    // after batch 1's end, before host 1 of batch 2 fails
    expect(dest.events[0]!.sequence).toBeGreaterThan(sequence.batchEnded([1, 2], 1));
    expect(dest.events[0]!.sequence).toBeLessThan(sequence.hostFailed([1, 2], 2, 0));
    await runOperation(releaseStop(rt), [{ releaseId: 'rel-1' }], ctx);
    expect(dest.events).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('release event not published');
  });
});
