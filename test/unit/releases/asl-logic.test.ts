/**
 * The release state machine's logic, run for real: state-machines/release.asl.json executed by
 * LocalStepFunctions (aws-local-stepfunctions) with fake task handlers that record every call and answer
 * as the real ones do. Advance is the real tally (advanceRelease: pure), the stop record a scenario flag.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ArtifactStoreError,
  ConfigError,
  HealthCheckFailedError,
  InputError,
  JobFailedError,
  ReleaseExistsError,
  ReleaseNotFoundError,
  RollbackFailedError,
  SaltApiUnavailableError,
  StopRequestedError,
} from '../../../lib/errors.js';
import { forLocalRunner, LocalStepFunctions, RELEASE_ASL_PATH, taskResources } from '../../../lib/releases/local-step-functions.js';
import { planRollout, type Amount } from '../../../lib/releases/release-plan.js';
import { INLINE_MAP_CONCURRENCY } from '../../../lib/releases/history-budget.js';
import {
  advanceRelease,
  firstBatch,
  tallySlice,
  type DistributionJob,
  type HostOutcome,
  type HostStepEvent,
  type ReleaseState,
  type TaskHandler,
} from '../../../lib/releases/release-tasks.js';
import { LOCAL_STATE_MACHINE_ARN, type ExecutionDescription } from '../../../lib/releases/step-functions-port.js';
import { deferred } from '../helpers.js';

type Definition = ConstructorParameters<typeof LocalStepFunctions>[0];
const loadAsl = (): Definition => JSON.parse(readFileSync(RELEASE_ASL_PATH, 'utf8')) as Definition;

/** No waiting between retries in these tests: every Task state's retriers wait 0 ms. */
const NO_RETRY_WAIT = Object.fromEntries([...taskResources(loadAsl()).keys()].map((state) => [state, 0]));

type Step = HostStepEvent['step'];
type FinishInput = Partial<ReleaseState> & { release: { id: string }; prepareError?: { Error: string; Cause: string } };
type FinishOutput = { status: string; summary: string; cause: string; hosts: Array<{ host: string; state: string }> };

interface Scenario {
  hosts: string[];
  batchSize: number;
  /** An explicit plan instead of batchSize (planRollout, as Prepare). */
  batches?: Amount[];
  maxFailures?: number;
  minHealthy?: number;
  /** release/stop asked for once this returns true (read as the real tasks read the stop record). */
  stopped?: () => boolean;
  mode?: 'new' | 'update';
  health?: boolean;
  /** Pause in every host step (concurrency tests). */
  delayMs?: number;
  /** Hosts per slice (default 40, the inline Map's concurrency on AWS). */
  sliceSize?: number;
  /** Replaces the release plan Prepare returns. */
  plan?: (state: ReleaseState) => ReleaseState;
  /** Runs before Prepare's default answer: throw to fail it, return a value to answer instead. */
  onPrepare?: (attempt: number) => unknown;
  /** Runs before a host step's default answer (attempt counts this step on this host): throw to fail it. */
  onStep?: (event: HostStepEvent, attempt: number) => unknown;
  /** Replaces Finish's status (by default from the hosts' outcomes, as the real one). */
  finishStatus?: string;
}

interface LogEntry {
  seq: number;
  fn: string;
  phase: 'start' | 'end';
  step?: Step;
  host?: string;
}

/** Fake task handlers over a scenario: every call recorded, answers shaped as the real ones. */
function fakeTasks(s: Scenario) {
  let seq = 0;
  const log: LogEntry[] = [];
  const hostEvents: HostStepEvent[] = [];
  const attempts = new Map<string, number>();
  const outcomes = new Map<string, HostOutcome['state'] | 'running'>();
  const calls = {
    prepare: 0,
    advance: [] as ReleaseState[],
    finish: [] as FinishInput[],
    slices: [] as Array<{ batch: number; slice: number; tally: boolean }>,
    outcomes: [] as Array<{ batch: number; outcomes: HostOutcome[] }>,
  };
  let plannedBatches: string[][] = [];
  let sliceSize = INLINE_MAP_CONCURRENCY;
  let inFlight = 0;
  let peak = 0;

  const releasePrepare = async (event: { release: { id: string } }): Promise<unknown> => {
    calls.prepare++;
    log.push({ seq: seq++, fn: 'releasePrepare', phase: 'start' });
    const custom = s.onPrepare?.(calls.prepare);
    if (custom !== undefined) return custom;
    const plan = planRollout(s.hosts, {
      ...(s.batches ? { batches: s.batches } : { batchSize: s.batchSize }),
      maxFailures: s.maxFailures ?? 0,
      minHealthy: s.minHealthy ?? 0,
    });
    plannedBatches = plan.batches;
    const state = firstBatch(
      { id: event.release.id, mode: s.mode ?? 'new', health: s.health ?? true },
      { maxFailures: plan.maxFailures, minHealthy: plan.minHealthy, hosts: s.hosts.length },
      plan.batches.map((b) => b.length),
      s.sliceSize ?? INLINE_MAP_CONCURRENCY,
    );
    const given = s.plan ? s.plan(state) : state;
    sliceSize = given.sliceSize;
    return given;
  };

  /** As the real one: a slice's hosts from the plan (LoadSlice), or its hosts' outcomes counted (TallySlice). */
  const releaseSlice = async (event: { batch: number; slice: number; outcomes?: HostOutcome[] }): Promise<unknown> => {
    calls.slices.push({ batch: event.batch, slice: event.slice, tally: !!event.outcomes });
    if (event.outcomes) {
      calls.outcomes.push({ batch: event.batch, outcomes: structuredClone(event.outcomes) });
      return tallySlice(event.outcomes);
    }
    return plannedBatches[event.batch]!.slice(event.slice * sliceSize, (event.slice + 1) * sliceSize);
  };

  const defaultStep = (event: HostStepEvent, attempt: number): unknown => {
    const { host } = event;
    switch (event.step) {
      case 'distribute':
        return { jid: `jid-${host}`, startedMs: 1, deadlineMs: 2, pollSeconds: 0, done: false } satisfies DistributionJob;
      case 'check':
        // Not finished at the first look, finished at the second.
        return { ...event.job!, done: attempt >= 2 } satisfies DistributionJob;
      case 'commit':
        outcomes.set(host, 'succeeded');
        return { host, state: 'succeeded' } satisfies HostOutcome;
      case 'rollback':
        // as the real one: a host stopped before its first step ran is skipped, not rolled back
        if (event.failure?.Error === 'StopRequestedError' && hostEvents.filter((e) => e.host === host && e.step !== 'rollback').length === 1) {
          outcomes.set(host, 'skipped');
          return { host, state: 'skipped' } satisfies HostOutcome;
        }
        outcomes.set(host, 'rolled-back');
        return { host, state: 'rolled-back', step: 'x', error: `${event.failure?.Error}: ${event.failure?.Cause}` } satisfies HostOutcome;
      case 'left-changed':
        outcomes.set(host, 'failed');
        return { host, state: 'failed', error: `${event.failure?.Error}; rollback: ${event.rollbackFailure?.Error}` } satisfies HostOutcome;
      default:
        return null;
    }
  };

  const releaseHostStep = async (event: HostStepEvent): Promise<unknown> => {
    const key = `${event.host}/${event.step}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    hostEvents.push(structuredClone(event));
    log.push({ seq: seq++, fn: 'releaseHostStep', phase: 'start', step: event.step, host: event.host });
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      if (event.step === 'rollback') outcomes.set(event.host, 'running');
      if (s.delayMs) await sleep(s.delayMs);
      // the real host step: every step but a distribution being polled refuses to begin once stopped
      if (s.stopped?.() && !['check', 'rollback', 'left-changed'].includes(event.step)) {
        throw new StopRequestedError(`release r1 was stopped (release/stop) before ${event.step} on ${event.host}`);
      }
      const custom = s.onStep?.(event, attempt);
      return custom !== undefined ? custom : defaultStep(event, attempt);
    } finally {
      inFlight--;
      log.push({ seq: seq++, fn: 'releaseHostStep', phase: 'end', step: event.step, host: event.host });
    }
  };

  const releaseAdvance = async (state: ReleaseState): Promise<unknown> => {
    calls.advance.push(structuredClone(state));
    log.push({ seq: seq++, fn: 'releaseAdvance', phase: 'start' });
    return advanceRelease(state, state.cursor + 1 < state.batchSizes.length && !!s.stopped?.());
  };

  const releaseFinish = async (state: FinishInput): Promise<FinishOutput> => {
    calls.finish.push(structuredClone(state));
    log.push({ seq: seq++, fn: 'releaseFinish', phase: 'start' });
    if (state.prepareError) {
      const summary = `release refused, no host was touched: ${state.prepareError.Error}: ${state.prepareError.Cause}`;
      return { status: 'PREPARE_FAILED', summary, cause: summary, hosts: [] };
    }
    const hosts = s.hosts.map((host) => ({ host, state: outcomes.get(host) ?? 'skipped' }));
    const count = (st: string) => hosts.filter((h) => h.state === st).length;
    const stopped = !!s.stopped?.() && count('succeeded') < hosts.length;
    const status =
      s.finishStatus ??
      (stopped ? 'STOPPED' : count('failed') || count('running') ? 'LEFT_CHANGED' : count('rolled-back') || count('skipped') ? 'ROLLED_BACK' : 'SUCCEEDED');
    const summary = `${hosts.length} host(s): ${count('succeeded')} succeeded, ${count('rolled-back')} rolled back, ${count('failed')} failed, ${count('skipped')} skipped`;
    return { status, summary, cause: summary, hosts };
  };

  const handlers = { releasePrepare, releaseHostStep, releaseSlice, releaseAdvance, releaseFinish } as unknown as Record<string, TaskHandler>;
  return {
    handlers,
    log,
    calls,
    hostEvents,
    peak: () => peak,
    /** The steps one host ran, in order (retries included). */
    stepsOf: (host: string) => hostEvents.filter((e) => e.host === host).map((e) => e.step),
    /** The host outcomes of a batch, as its slices' TallySlice got them (the inline Maps' results). */
    outcomesOf: (batch: number) => calls.outcomes.filter((o) => o.batch === batch).flatMap((o) => o.outcomes),
    eventsOf: (host: string, step: Step) => hostEvents.filter((e) => e.host === host && e.step === step),
  };
}

const inputOf = (id: string) => JSON.stringify({ release: { id, bucket: 'b', key: `.saltstack-releases/${id}/request.json` } });

/** Runs a scenario through the real ASL to its end. */
async function run(s: Scenario, name = 'r1') {
  const fake = fakeTasks(s);
  const sfn = new LocalStepFunctions(loadAsl(), fake.handlers, { retryIntervalOverrides: NO_RETRY_WAIT });
  const started = Date.now();
  const { executionArn } = await sfn.startExecution({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, name, input: inputOf(name) });
  const settled = await sfn.settled(executionArn);
  const described = await sfn.describeExecution({ executionArn });
  return { ...fake, settled, described, elapsedMs: Date.now() - started, output: settled.output ? (JSON.parse(settled.output) as FinishOutput) : undefined };
}

const FULL = ['ensure-user', 'distribute', 'check', 'check', 'start', 'health', 'commit'];

describe('the release state machine: happy path', () => {
  it('deploys 2 batches of 2 hosts, each host EnsureUser → Distribute → Check ×2 → Start → Health → Commit, and succeeds', async () => {
    const r = await run({ hosts: ['h1', 'h2', 'h3', 'h4'], batchSize: 2, health: true });
    for (const host of ['h1', 'h2', 'h3', 'h4']) expect(r.stepsOf(host)).toEqual(FULL);
    expect(r.settled.status).toBe('SUCCEEDED');
    expect(r.described.status).toBe('SUCCEEDED');
    expect(r.described.stopDate).toBeInstanceOf(Date);
    expect(r.output?.status).toBe('SUCCEEDED');
    expect(r.calls.prepare).toBe(1);
    expect(r.calls.advance).toHaveLength(2);
    // Advance gets the Distributed Map's results: one tally per slice (here one slice per batch), no host list.
    expect(r.calls.advance[0]!.results).toEqual([{ succeeded: 2, rolledBack: 0, failed: 0, skipped: 0 }]);
    expect(r.calls.slices).toEqual([
      { batch: 0, slice: 0, tally: false },
      { batch: 0, slice: 0, tally: true },
      { batch: 1, slice: 0, tally: false },
      { batch: 1, slice: 0, tally: true },
    ]);
    expect(r.calls.finish).toHaveLength(1);
    expect(r.calls.finish[0]).toMatchObject({ cursor: 2, done: true, slices: [], tally: { succeeded: 4, rolledBack: 0, failed: 0 } });
    expect(r.calls.finish[0]).not.toHaveProperty('stoppedEarly');
    expect(r.calls.finish[0]).not.toHaveProperty('results');
  });

  it('gives every host step the release (id, mode, health) and its host; Check gets the job Distribute, then the last Check, returned', async () => {
    const r = await run({ hosts: ['h1'], batchSize: 1, mode: 'new', health: true }, 'rel-7');
    for (const event of r.hostEvents) {
      expect(event.release).toEqual({ id: 'rel-7', mode: 'new', health: true });
      expect(event.host).toBe('h1');
    }
    const [first, second] = r.eventsOf('h1', 'check');
    expect(first!.job).toEqual({ jid: 'jid-h1', startedMs: 1, deadlineMs: 2, pollSeconds: 0, done: false });
    expect(second!.job).toEqual(first!.job); // the first look answered {...job, done: false}
    expect(r.eventsOf('h1', 'start')[0]).toEqual({ step: 'start', release: { id: 'rel-7', mode: 'new', health: true }, host: 'h1' });
  });

  it('stops the running version instead of ensuring the user in mode update (the user exists, as upstream)', async () => {
    const r = await run({ hosts: ['h1', 'h2'], batchSize: 2, mode: 'update' });
    for (const host of ['h1', 'h2']) expect(r.stepsOf(host)).toEqual(['stop', 'distribute', 'check', 'check', 'start', 'health', 'commit']);
    expect(r.settled.status).toBe('SUCCEEDED');
  });

  it('runs no health step when the release has no health check', async () => {
    const r = await run({ hosts: ['h1', 'h2'], batchSize: 1, health: false });
    for (const host of ['h1', 'h2']) expect(r.stepsOf(host)).toEqual(['ensure-user', 'distribute', 'check', 'check', 'start', 'commit']);
    expect(r.output?.status).toBe('SUCCEEDED');
  });

  it('polls a distribution until Check says done', async () => {
    const r = await run({ hosts: ['h1'], batchSize: 1, onStep: (e, attempt) => (e.step === 'check' ? { ...e.job!, done: attempt >= 5 } : undefined) });
    expect(r.stepsOf('h1').filter((s) => s === 'check')).toHaveLength(5);
    expect(r.settled.status).toBe('SUCCEEDED');
  });
});

describe('the release state machine: batches and concurrency', () => {
  it('runs at most batchSize hosts at once (MaxConcurrencyPath), and a batch only after the previous one ended', async () => {
    const hosts = ['h1', 'h2', 'h3', 'h4'];
    const r = await run({ hosts, batchSize: 2, delayMs: 5 });
    expect(r.peak()).toBe(2);
    const batch1 = r.log.filter((e) => e.host === 'h1' || e.host === 'h2');
    const batch2 = r.log.filter((e) => e.host === 'h3' || e.host === 'h4');
    const advances = r.log.filter((e) => e.fn === 'releaseAdvance').map((e) => e.seq);
    const lastOf1 = Math.max(...batch1.map((e) => e.seq));
    const firstOf2 = Math.min(...batch2.map((e) => e.seq));
    expect(lastOf1).toBeLessThan(firstOf2);
    expect(advances[0]).toBeGreaterThan(lastOf1);
    expect(advances[0]).toBeLessThan(firstOf2);
  });

  it('limits concurrency by $.concurrency (slices at once) even when a batch holds more slices', async () => {
    const hosts = ['h1', 'h2', 'h3', 'h4'];
    const plan =
      (limit: number) =>
      (state: ReleaseState): ReleaseState => ({ ...state, sliceSize: 1, slices: [0, 1, 2, 3], concurrency: limit });
    const limited = await run({ hosts, batchSize: 4, delayMs: 5, plan: plan(2) });
    expect(limited.peak()).toBe(2);
    for (const host of hosts) expect(limited.stepsOf(host)).toEqual(FULL);
    const open = await run({ hosts, batchSize: 4, delayMs: 5, plan: plan(4) });
    expect(open.peak()).toBe(4);
  });

  it('splits a batch into slices of sliceSize hosts, every slice at once, each host in exactly one slice', async () => {
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];
    const r = await run({ hosts, batchSize: 0, sliceSize: 3, delayMs: 5 });
    expect(
      r.calls.slices
        .filter((c) => !c.tally)
        .map((c) => c.slice)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(r.calls.advance[0]!.slices).toEqual([0, 1, 2]);
    expect(r.calls.advance[0]!.results).toEqual(
      expect.arrayContaining([
        { succeeded: 3, rolledBack: 0, failed: 0, skipped: 0 },
        { succeeded: 1, rolledBack: 0, failed: 0, skipped: 0 },
      ]),
    );
    expect(r.peak()).toBe(7);
    for (const host of hosts) expect(r.stepsOf(host)).toEqual(FULL);
    expect(r.calls.finish[0]!.tally).toEqual({ succeeded: 7, rolledBack: 0, failed: 0 });
  });

  it('runs hosts of one batch in parallel (batchSize 0 = everything at once)', async () => {
    const hosts = ['a', 'b', 'c'];
    const r = await run({ hosts, batchSize: 0, delayMs: 5 });
    expect(r.peak()).toBe(3);
    expect(r.calls.advance).toHaveLength(1);
  });
});

describe('the release state machine: health checks and rollback', () => {
  it('retries a failing health check on HealthCheckFailedError until it passes (retry waits overridden)', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onStep: (e, attempt) => {
        if (e.step === 'health' && attempt <= 2) throw new HealthCheckFailedError(`Health check failed on ${e.host} (exit 1)`, e.host);
        return undefined;
      },
    });
    expect(r.stepsOf('h1')).toEqual(['ensure-user', 'distribute', 'check', 'check', 'start', 'health', 'health', 'health', 'commit']);
    expect(r.eventsOf('h1', 'rollback')).toHaveLength(0);
    expect(r.settled.status).toBe('SUCCEEDED');
    // Without the override the Retry would wait 3 s + 4.5 s.
    expect(r.elapsedMs).toBeLessThan(2500);
  });

  it('rolls back a host whose health check keeps failing (1 + MaxAttempts 4 checks) and fails ReleaseRolledBack', async () => {
    const r = await run({
      hosts: ['h1', 'h2'],
      batchSize: 2,
      onStep: (e) => {
        if (e.step === 'health' && e.host === 'h1') throw new HealthCheckFailedError('Health check failed on h1 (exit 3): not ready', 'h1');
        return undefined;
      },
    });
    expect(r.stepsOf('h1')).toEqual(['ensure-user', 'distribute', 'check', 'check', 'start', 'health', 'health', 'health', 'health', 'health', 'rollback']);
    const [rollback] = r.eventsOf('h1', 'rollback');
    expect(rollback).toEqual({
      step: 'rollback',
      release: { id: 'r1', mode: 'new', health: true },
      host: 'h1',
      failure: { Error: 'HealthCheckFailedError', Cause: 'Health check failed on h1 (exit 3): not ready' },
    });
    expect(r.stepsOf('h2')).toEqual(FULL);
    expect(r.outcomesOf(0)).toEqual([
      { host: 'h1', state: 'rolled-back', step: 'x', error: 'HealthCheckFailedError: Health check failed on h1 (exit 3): not ready' },
      { host: 'h2', state: 'succeeded' },
    ]);
    expect(r.calls.finish[0]!.tally).toEqual({ succeeded: 1, rolledBack: 1, failed: 0 });
    expect(r.described.status).toBe('FAILED');
    expect(r.described.error).toBe('ReleaseRolledBack');
    expect(r.described.cause).toBe('2 host(s): 1 succeeded, 1 rolled back, 0 failed, 0 skipped');
    expect(r.described.output).toBeUndefined();
  });

  it.each([
    ['EnsureUser', 'new', 'ensure-user', []],
    ['StopPrevious', 'update', 'stop', []],
    ['Distribute', 'update', 'distribute', ['stop']],
    ['CheckDistribution', 'update', 'check', ['stop', 'distribute']],
    ['Start', 'update', 'start', ['stop', 'distribute', 'check', 'check']],
    ['Commit', 'update', 'commit', ['stop', 'distribute', 'check', 'check', 'start', 'health']],
  ] as Array<[string, 'new' | 'update', Step, Step[]]>)(
    'rolls back a host failing at %s (mode %s), with the error in failure',
    async (_state, mode, failing, before) => {
      const r = await run({
        hosts: ['h1'],
        batchSize: 1,
        mode,
        onStep: (e) => {
          if (e.step === failing) throw new JobFailedError(`${failing} failed on ${e.host}`, e.host);
          return undefined;
        },
      });
      expect(r.stepsOf('h1')).toEqual([...before, failing, 'rollback']);
      expect(r.eventsOf('h1', 'rollback')[0]!.failure).toEqual({ Error: 'JobFailedError', Cause: `${failing} failed on h1` });
      expect(r.described.error).toBe('ReleaseRolledBack');
    },
  );

  it('records a host left changed when its rollback fails (RollbackFailedError, not retried) and fails ReleaseLeftChanged', async () => {
    const r = await run({
      hosts: ['h1', 'h2'],
      batchSize: 2,
      maxFailures: 5,
      onStep: (e) => {
        if (e.host !== 'h1') return undefined;
        if (e.step === 'health') throw new HealthCheckFailedError('unhealthy', 'h1');
        if (e.step === 'rollback') throw new RollbackFailedError('restore on h1 failed: disk full', 'h1');
        return undefined;
      },
    });
    expect(r.eventsOf('h1', 'rollback')).toHaveLength(1);
    const [record] = r.eventsOf('h1', 'left-changed');
    expect(record).toEqual({
      step: 'left-changed',
      release: { id: 'r1', mode: 'new', health: true },
      host: 'h1',
      failure: { Error: 'HealthCheckFailedError', Cause: 'unhealthy' },
      rollbackFailure: { Error: 'RollbackFailedError', Cause: 'restore on h1 failed: disk full' },
    });
    expect(r.calls.finish[0]!.tally).toEqual({ succeeded: 1, rolledBack: 0, failed: 1 });
    expect(r.described.status).toBe('FAILED');
    expect(r.described.error).toBe('ReleaseLeftChanged');
  });

  it('retries a rollback on a transient error', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onStep: (e, attempt) => {
        if (e.step === 'start') throw new JobFailedError('start failed', 'h1');
        if (e.step === 'rollback' && attempt === 1) throw new SaltApiUnavailableError('salt-api at x timed out');
        return undefined;
      },
    });
    expect(r.eventsOf('h1', 'rollback')).toHaveLength(2);
    expect(r.eventsOf('h1', 'left-changed')).toHaveLength(0);
    expect(r.described.error).toBe('ReleaseRolledBack');
  });

  it('still ends the iteration when the left-changed record cannot be written (LeftChangedUnrecorded counts as failed)', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onStep: (e) => {
        if (e.step === 'ensure-user') throw new JobFailedError('useradd failed', 'h1');
        if (e.step === 'rollback') throw new RollbackFailedError('nope', 'h1');
        if (e.step === 'left-changed') throw new InputError('Release r1 has no plan (release.json missing)');
        return undefined;
      },
    });
    expect(r.outcomesOf(0)).toEqual([{ host: 'h1', state: 'failed', error: 'rollback failed and could not be recorded' }]);
    expect(r.calls.advance[0]!.results).toEqual([{ succeeded: 0, rolledBack: 0, failed: 1, skipped: 0 }]);
    expect(r.calls.finish[0]!.tally).toEqual({ succeeded: 0, rolledBack: 0, failed: 1 });
    expect(r.described.error).toBe('ReleaseLeftChanged');
  });

  it('retries a host step on a transient error without rolling back', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onStep: (e, attempt) => {
        if (e.step === 'distribute' && attempt === 1) throw new ArtifactStoreError('Failed to upload file s3://b/x to S3: 503');
        return undefined;
      },
    });
    expect(r.stepsOf('h1')).toEqual(['ensure-user', 'distribute', 'distribute', 'check', 'check', 'start', 'health', 'commit']);
    expect(r.settled.status).toBe('SUCCEEDED');
  });
});

describe('the release state machine: error budget', () => {
  const failFirst = (e: HostStepEvent) => {
    if (e.host === 'h1' && e.step === 'ensure-user') throw new JobFailedError('useradd failed', 'h1');
    return undefined;
  };

  it('maxFailures 0: after the first host fails, no step runs on the hosts of later batches', async () => {
    const r = await run({ hosts: ['h1', 'h2', 'h3'], batchSize: 1, maxFailures: 0, onStep: failFirst });
    expect(r.stepsOf('h1')).toEqual(['ensure-user', 'rollback']);
    expect(r.stepsOf('h2')).toEqual([]);
    expect(r.stepsOf('h3')).toEqual([]);
    expect(r.calls.advance).toHaveLength(1);
    expect(r.calls.finish[0]).toMatchObject({ done: true, stoppedEarly: true, cursor: 1, slices: [], tally: { succeeded: 0, rolledBack: 1, failed: 0 } });
    expect(r.output).toBeUndefined();
    expect(r.described.error).toBe('ReleaseRolledBack');
    expect(r.described.cause).toContain('2 skipped');
  });

  it('maxFailures 1: one failure is tolerated and the later batches run', async () => {
    const r = await run({ hosts: ['h1', 'h2', 'h3'], batchSize: 1, maxFailures: 1, onStep: failFirst });
    expect(r.stepsOf('h2')).toEqual(FULL);
    expect(r.stepsOf('h3')).toEqual(FULL);
    expect(r.calls.advance).toHaveLength(3);
    expect(r.calls.finish[0]).toMatchObject({ done: true, cursor: 3, tally: { succeeded: 2, rolledBack: 1, failed: 0 } });
    expect(r.calls.finish[0]).not.toHaveProperty('stoppedEarly');
  });

  it('maxFailures 1: a second failure stops the release before the next batch', async () => {
    const r = await run({
      hosts: ['h1', 'h2', 'h3'],
      batchSize: 1,
      maxFailures: 1,
      onStep: (e) => {
        if (e.host !== 'h3' && e.step === 'start') throw new JobFailedError('start failed', e.host);
        return undefined;
      },
    });
    expect(r.stepsOf('h2')).toContain('rollback');
    expect(r.stepsOf('h3')).toEqual([]);
    expect(r.calls.finish[0]).toMatchObject({ stoppedEarly: true, cursor: 2, tally: { succeeded: 0, rolledBack: 2, failed: 0 } });
  });

  it('finishes a whole batch even when it exceeds the budget (hosts already started are not abandoned)', async () => {
    const r = await run({
      hosts: ['h1', 'h2', 'h3', 'h4'],
      batchSize: 2,
      maxFailures: 0,
      onStep: (e) => {
        if (e.host === 'h1' && e.step === 'ensure-user') throw new JobFailedError('useradd failed', 'h1');
        return undefined;
      },
    });
    expect(r.stepsOf('h2')).toEqual(FULL);
    expect(r.stepsOf('h3')).toEqual([]);
    expect(r.calls.finish[0]!.tally).toEqual({ succeeded: 1, rolledBack: 1, failed: 0 });
  });
});

describe('the release state machine: explicit plans, minHealthy and release/stop', () => {
  it('runs a canary plan ["1", "50%", "100%"] over 5 hosts: h1 alone, then h2-h3 together, then h4-h5', async () => {
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5'];
    const r = await run({ hosts, batchSize: 0, batches: [1, '50%', '100%'], delayMs: 5 });
    expect(r.calls.advance.map((a) => a.batchSizes)).toEqual([
      [1, 2, 2],
      [1, 2, 2],
      [1, 2, 2],
    ]);
    expect(r.calls.slices.filter((c) => !c.tally).map((c) => c.batch)).toEqual([0, 1, 2]);
    const last = (hs: string[]) => Math.max(...r.log.filter((e) => hs.includes(e.host ?? '')).map((e) => e.seq));
    const first = (hs: string[]) => Math.min(...r.log.filter((e) => hs.includes(e.host ?? '')).map((e) => e.seq));
    expect(last(['h1'])).toBeLessThan(first(['h2', 'h3']));
    expect(last(['h2', 'h3'])).toBeLessThan(first(['h4', 'h5']));
    expect(r.peak()).toBe(2); // the canary ran alone; each later batch all at once
    for (const host of hosts) expect(r.stepsOf(host)).toEqual(FULL);
    expect(r.described.status).toBe('SUCCEEDED');
  });

  it('minHealthy: after a failure, no batch starts that would leave fewer hosts healthy (budget not exhausted)', async () => {
    const r = await run({
      hosts: ['h1', 'h2', 'h3', 'h4'],
      batchSize: 1,
      maxFailures: 3,
      minHealthy: 3,
      onStep: (e) => {
        if (e.host === 'h1' && e.step === 'start') throw new JobFailedError('start failed', 'h1');
        return undefined;
      },
    });
    expect(r.stepsOf('h1')).toContain('rollback');
    for (const host of ['h2', 'h3', 'h4']) expect(r.stepsOf(host)).toEqual([]);
    expect(r.calls.finish[0]).toMatchObject({
      stoppedEarly: true,
      cursor: 1,
      haltReason: 'the next batch of 1 would leave 2 healthy host(s), under minHealthy 3',
    });
    expect(r.described.error).toBe('ReleaseRolledBack');
  });

  it('minHealthy is no limit while no host fails', async () => {
    const r = await run({ hosts: ['h1', 'h2', 'h3', 'h4'], batchSize: 1, minHealthy: 3 });
    expect(r.calls.advance).toHaveLength(4);
    expect(r.described.status).toBe('SUCCEEDED');
  });

  it('release/stop mid-batch: the host in flight finishes its step and is put back, no later batch starts, ReleaseStopped', async () => {
    let stop = false;
    const r = await run({
      hosts: ['h1', 'h2', 'h3'],
      batchSize: 1,
      stopped: () => stop,
      onStep: (e) => {
        if (e.host === 'h2' && e.step === 'start') stop = true; // asked for while h2's start runs
        return undefined;
      },
    });
    expect(r.stepsOf('h1')).toEqual(FULL);
    // start finished; health refused to begin (called, it threw StopRequestedError); the Catch put the host back
    expect(r.stepsOf('h2')).toEqual(['ensure-user', 'distribute', 'check', 'check', 'start', 'health', 'rollback']);
    expect(r.eventsOf('h2', 'rollback')[0]!.failure).toEqual({
      Error: 'StopRequestedError',
      Cause: 'release r1 was stopped (release/stop) before health on h2',
    });
    expect(r.stepsOf('h3')).toEqual([]);
    expect(r.calls.finish[0]).toMatchObject({ stoppedEarly: true, cursor: 2, haltReason: 'the release was stopped (release/stop)' });
    expect(r.described.status).toBe('FAILED');
    expect(r.described.error).toBe('ReleaseStopped');
  });

  it('release/stop lets a distribution being polled finish before the host is put back', async () => {
    let stop = false;
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      stopped: () => stop,
      onStep: (e, attempt) => {
        if (e.step === 'check' && attempt === 1) stop = true;
        return undefined;
      },
    });
    // the polling went on to its end; start refused to begin (called, it threw StopRequestedError)
    expect(r.stepsOf('h1')).toEqual(['ensure-user', 'distribute', 'check', 'check', 'start', 'rollback']);
    expect(r.eventsOf('h1', 'rollback')[0]!.failure?.Error).toBe('StopRequestedError');
    expect(r.described.error).toBe('ReleaseStopped');
  });

  it('release/stop before a host began: it is skipped, nothing run on it', async () => {
    const r = await run({ hosts: ['h1', 'h2'], batchSize: 2, stopped: () => true });
    for (const host of ['h1', 'h2']) expect(r.stepsOf(host)).toEqual(['ensure-user', 'rollback']);
    expect(r.outcomesOf(0)).toEqual([
      { host: 'h1', state: 'skipped' },
      { host: 'h2', state: 'skipped' },
    ]);
    expect(r.calls.advance[0]!.results).toEqual([{ succeeded: 0, rolledBack: 0, failed: 0, skipped: 2 }]);
    expect(r.calls.finish[0]!.tally).toEqual({ succeeded: 0, rolledBack: 0, failed: 0 });
    expect(r.described.error).toBe('ReleaseStopped');
  });
});

describe('the release state machine: Prepare', () => {
  it('retries Prepare on a transient error, then proceeds', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onPrepare: (attempt) => {
        if (attempt === 1) throw new SaltApiUnavailableError('salt-api at x did not answer');
        return undefined;
      },
    });
    expect(r.calls.prepare).toBe(2);
    expect(r.stepsOf('h1')).toEqual(FULL);
    expect(r.described.status).toBe('SUCCEEDED');
  });

  it('refuses the release on an InputError: not retried, Finish gets $.prepareError, nothing touched, ReleaseRefused', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onPrepare: () => {
        throw new InputError('Parameter destinationPath validation failed: must be an absolute path');
      },
    });
    expect(r.calls.prepare).toBe(1);
    expect(r.hostEvents).toEqual([]);
    expect(r.calls.advance).toEqual([]);
    expect(r.calls.finish).toEqual([
      {
        release: { id: 'r1', bucket: 'b', key: '.saltstack-releases/r1/request.json' },
        prepareError: { Error: 'InputError', Cause: 'Parameter destinationPath validation failed: must be an absolute path' },
      },
    ]);
    expect(r.described.status).toBe('FAILED');
    expect(r.described.error).toBe('ReleaseRefused');
    expect(r.described.cause).toBe('release refused, no host was touched: InputError: Parameter destinationPath validation failed: must be an absolute path');
  });

  it('gives up on a transient error after 1 + MaxAttempts 8 tries and refuses the release', async () => {
    const r = await run({
      hosts: ['h1'],
      batchSize: 1,
      onPrepare: () => {
        throw new SaltApiUnavailableError('salt-api down');
      },
    });
    expect(r.calls.prepare).toBe(9);
    expect(r.calls.finish[0]!.prepareError).toEqual({ Error: 'SaltApiUnavailableError', Cause: 'salt-api down' });
    expect(r.described.error).toBe('ReleaseRefused');
  });

  it('fails LeftChanged for any other Finish status', async () => {
    const r = await run({ hosts: ['h1'], batchSize: 1, finishStatus: 'SOMETHING_ELSE' });
    expect(r.described.error).toBe('ReleaseLeftChanged');
  });
});

describe('LocalStepFunctions: executions', () => {
  /** A runner whose Prepare waits for `gate`: the execution stays RUNNING until then. */
  function blocked() {
    const gate = deferred();
    const fake = fakeTasks({ hosts: ['h1'], batchSize: 1 });
    const handlers = { ...fake.handlers, releasePrepare: async (event: unknown) => (await gate.promise, fake.handlers['releasePrepare']!(event)) };
    const sfn = new LocalStepFunctions(loadAsl(), handlers as Record<string, TaskHandler>, { retryIntervalOverrides: NO_RETRY_WAIT });
    return { gate, fake, sfn };
  }
  const start = (sfn: LocalStepFunctions, name: string, input = inputOf(name)) => sfn.startExecution({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, name, input });

  it('is idempotent while running with the same name and input: same ARN, one run', async () => {
    const { gate, fake, sfn } = blocked();
    const first = await start(sfn, 'same');
    const again = await start(sfn, 'same');
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    expect(first.executionArn).toBe('arn:aws:states:local:000000000000:execution:release:same');
    const running: ExecutionDescription = await sfn.describeExecution({ executionArn: first.executionArn });
    expect(running).toMatchObject({ status: 'RUNNING', name: 'same', input: inputOf('same') });
    expect(running.output).toBeUndefined();
    gate.resolve();
    expect((await sfn.settled(first.executionArn)).status).toBe('SUCCEEDED');
    expect(fake.calls.prepare).toBe(1);
    expect(fake.stepsOf('h1')).toEqual(FULL);
  });

  it('refuses the same name with another input while running (ReleaseExistsError)', async () => {
    const { gate, sfn } = blocked();
    const first = await start(sfn, 'busy');
    await expect(start(sfn, 'busy', inputOf('other'))).rejects.toBeInstanceOf(ReleaseExistsError);
    gate.resolve();
    await sfn.settled(first.executionArn);
  });

  it('refuses the same name and input once the execution has ended (ReleaseExistsError)', async () => {
    const { gate, fake, sfn } = blocked();
    gate.resolve();
    const first = await start(sfn, 'ended');
    await sfn.settled(first.executionArn);
    await expect(start(sfn, 'ended')).rejects.toThrow(ReleaseExistsError);
    expect(fake.calls.prepare).toBe(1);
  });

  it('refuses an unknown execution ARN or state machine (ReleaseNotFoundError)', async () => {
    const { sfn } = blocked();
    await expect(sfn.describeExecution({ executionArn: 'arn:aws:states:local:000000000000:execution:release:nope' })).rejects.toBeInstanceOf(
      ReleaseNotFoundError,
    );
    await expect(sfn.settled('arn:aws:states:local:000000000000:execution:release:nope')).rejects.toBeInstanceOf(ReleaseNotFoundError);
    await expect(
      sfn.startExecution({ stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:other', name: 'x', input: '{}' }),
    ).rejects.toBeInstanceOf(ReleaseNotFoundError);
  });

  it('refuses a definition whose Task names a function without a handler (ConfigError)', () => {
    const { releaseFinish: _dropped, ...rest } = fakeTasks({ hosts: ['h1'], batchSize: 1 }).handlers;
    expect(() => new LocalStepFunctions(loadAsl(), rest)).toThrow(ConfigError);
    expect(() => new LocalStepFunctions(loadAsl(), rest)).toThrow(/state Finish: no local handler for .*:function:releaseFinish$/);
  });
});

describe('LocalStepFunctions: timing overrides', () => {
  /** A two-state machine: a Task retried once after 1 s, then a Wait of 1 s. */
  const tiny = {
    StartAt: 'T',
    States: {
      T: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:123456789012:function:t',
        Retry: [{ ErrorEquals: ['SaltApiUnavailableError'], IntervalSeconds: 1, MaxAttempts: 1 }],
        Next: 'W',
      },
      W: { Type: 'Wait', Seconds: 1, End: true },
    },
  };
  const timed = async (options?: ConstructorParameters<typeof LocalStepFunctions>[2]) => {
    let calls = 0;
    const t = async () => {
      if (++calls === 1) throw new SaltApiUnavailableError('once');
      return { ok: true };
    };
    const sfn = new LocalStepFunctions(structuredClone(tiny) as Definition, { t }, options);
    const started = Date.now();
    const { executionArn } = await sfn.startExecution({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, name: 'tiny', input: '{}' });
    const done = await sfn.settled(executionArn);
    return { ms: Date.now() - started, calls, done };
  };

  it('keeps the intervals of the definition by default', async () => {
    const { ms, calls, done } = await timed();
    expect(calls).toBe(2);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toBe('{"ok":true}');
    expect(ms).toBeGreaterThanOrEqual(1900);
  });

  it('applies retryIntervalOverrides and waitTimeOverrides (ms, by state name)', async () => {
    const { ms, calls, done } = await timed({ retryIntervalOverrides: { T: 0 }, waitTimeOverrides: { W: 0 } });
    expect(calls).toBe(2);
    expect(done.status).toBe('SUCCEEDED');
    expect(ms).toBeLessThan(900);
  });
});

describe('forLocalRunner: ResultPath "$"', () => {
  it('drops ResultPath "$" of states and catchers (Map bodies included), keeps every other ResultPath, leaves its input unchanged', () => {
    const asl = loadAsl() as unknown as { States: Record<string, any> };
    // the repository's ASL avoids ResultPath "$" (the default); a definition that has it must still work
    asl.States['DeployBatch'].ItemProcessor.States['DeployHosts'].ItemProcessor.States['Commit'].ResultPath = '$';
    const before = JSON.stringify(asl);
    const local = forLocalRunner(asl);
    expect(JSON.stringify(asl)).toBe(before);
    const body = local.States['DeployBatch'].ItemProcessor.States['DeployHosts'].ItemProcessor.States;
    expect(body['Commit']).not.toHaveProperty('ResultPath');
    expect(asl.States['DeployBatch'].ItemProcessor.States['DeployHosts'].ItemProcessor.States['Commit'].ResultPath).toBe('$');
    expect(body['EnsureUser'].ResultPath).toBeNull();
    expect(body['Distribute'].ResultPath).toBe('$.job');
    expect(body['Distribute'].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RollBack' }]);
    expect(local.States['DeployBatch'].ResultPath).toBe('$.results');
    // Nothing else differs.
    delete asl.States['DeployBatch'].ItemProcessor.States['DeployHosts'].ItemProcessor.States['Commit'].ResultPath;
    expect(local).toEqual(asl);
  });

  it('makes a Task with ResultPath "$" (or a catcher with it) output its result, as on AWS', async () => {
    const definition = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:a', ResultPath: '$', Next: 'B' },
        B: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:b',
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'C' }],
          Next: 'C',
        },
        C: { Type: 'Pass', End: true },
      },
    };
    const sfn = new LocalStepFunctions(definition as Definition, {
      a: async () => ({ from: 'a' }),
      b: async () => {
        throw new JobFailedError('b failed', 'h');
      },
    });
    const { executionArn } = await sfn.startExecution({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, name: 'rp', input: '{"in":1}' });
    const done = await sfn.settled(executionArn);
    expect(JSON.parse(done.output!)).toEqual({ Error: 'JobFailedError', Cause: 'b failed' });
  });
});
