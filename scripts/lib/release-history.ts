/**
 * What AWS Step Functions would record for a release, measured by running the real release ASL in-process
 * (LocalStepFunctions, aws-local-stepfunctions) with fake tasks shaped like lib/releases/release-tasks.ts, and
 * converting each execution's local events into the history events AWS documents for each state type
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html):
 *   - Task (Lambda): TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted, then
 *     LambdaFunctionSucceeded or LambdaFunctionFailed per attempt (each retry: Scheduled, Started again),
 *     TaskStateExited;
 *   - Choice, Pass, Wait, Succeed: <Type>StateEntered, <Type>StateExited; Fail: FailStateEntered;
 *   - inline Map: MapStateEntered, MapStateStarted, per iteration MapIterationStarted and
 *     MapIterationSucceeded (or Failed), MapStateSucceeded, MapStateExited;
 *   - Distributed Map: MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited in the parent; each
 *     iteration is a child execution with its own history (ExecutionStarted ... ExecutionSucceeded);
 *   - the execution itself: ExecutionStarted, ExecutionSucceeded or ExecutionFailed.
 * A state transition (what AWS bills) is a state entered or a task retried.
 *
 * Local runs of a Distributed Map are inline (aws-local-stepfunctions 3.0.0 has no child executions), so the
 * simulation starts each slice as its own execution: the parent's LoadSlice handler runs the Map's
 * ItemProcessor (the same definition, from the same file) as a separate LocalStepFunctions execution with
 * the same fake tasks, as AWS starts a child execution, and the parent's inline copy of the slice gets no
 * host (its TallySlice returns the child's tally). Every execution's history is then converted on its own.
 */
import { readFileSync } from 'node:fs';
import { sliceSizeFor } from '../../lib/releases/history-budget.js';
import { LocalStepFunctions, taskResources } from '../../lib/releases/local-step-functions.js';
import { planRollout, type Strategy } from '../../lib/releases/release-plan.js';
import {
  advanceRelease,
  firstBatch,
  tallySlice,
  type DistributionJob,
  type HostOutcome,
  type HostStepEvent,
  type ReleaseState,
  type SliceTally,
} from '../../lib/releases/release-tasks.js';
import { LOCAL_STATE_MACHINE_ARN } from '../../lib/releases/step-functions-port.js';

type Json = Record<string, unknown>;
interface AslState {
  Type: string;
  ItemProcessor?: AslMachine & { ProcessorConfig?: { Mode?: string } };
  [key: string]: unknown;
}
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}
interface LocalEvent {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
}

/** One execution's history as AWS would keep it. */
export interface ExecutionHistory {
  events: number;
  transitions: number;
  lambdaCalls: number;
  /** The largest state input or output (bytes of its JSON): AWS refuses one over 256 KiB. */
  largestPayload: number;
}

/** AWS's limits on a Standard execution. */
export const AWS_LIMITS = { eventsPerExecution: 25_000, payloadBytes: 256 * 1024 } as const;

const isDistributed = (state: AslState | undefined) => state?.Type === 'Map' && state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';

/**
 * The AWS history of one local execution. `definition` tells each state's type and Map mode; only the events
 * that belong to this execution count: none inside a Distributed Map's iterations (child executions).
 */
export function awsHistoryOf(local: readonly LocalEvent[], definition: AslMachine): ExecutionHistory {
  const distributed = new Set<string>();
  const walk = (m: AslMachine) => {
    for (const [name, s] of Object.entries(m.States)) {
      if (isDistributed(s)) distributed.add(name);
      else if (s.ItemProcessor) walk(s.ItemProcessor);
    }
  };
  walk(definition);
  const h: ExecutionHistory = { events: 0, transitions: 0, lambdaCalls: 0, largestPayload: 0 };
  const size = (v: unknown) => (v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v)));
  // Inside a Distributed Map's iterations: another execution's events. The local runner tags a nested state's
  // events with an iteration index; at the top level of a parent with a Distributed Map, every indexed event
  // is inside it (the release has no other Map at the top).
  const foreign = (e: LocalEvent) => distributed.size > 0 && e.index !== undefined;
  for (const e of local) {
    if (e.type === 'MapIterationStarted' || e.type === 'MapIterationSucceeded' || e.type === 'MapIterationFailed') {
      // MapIterationStarted and its end, counted at the start: the local runner does not always report the
      // end of an iteration of a nested Map, AWS always records one
      if (e.type === 'MapIterationStarted' && !distributed.has(e.parentState?.name ?? '') && !foreign(e)) h.events += 2;
      continue;
    }
    if (foreign(e)) continue;
    const type = e.state?.type;
    switch (e.type) {
      case 'ExecutionStarted':
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
        h.events += 1;
        break;
      case 'StateEntered':
        h.transitions += 1;
        h.largestPayload = Math.max(h.largestPayload, size(e.state?.input));
        if (type === 'Task') {
          h.events += 3; // TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted
          h.lambdaCalls += 1;
        } else h.events += type === 'Map' ? 2 : 1; // MapStateEntered + MapStateStarted / MapRunStarted
        break;
      case 'StateFailed':
        if (type === 'Task') h.events += 1; // LambdaFunctionFailed (or TaskTimedOut)
        break;
      case 'StateRetried':
        h.transitions += 1;
        if (type === 'Task') {
          h.events += 2; // LambdaFunctionScheduled, LambdaFunctionStarted
          h.lambdaCalls += 1;
        }
        break;
      case 'StateCaught':
        if (type === 'Task') h.events -= 1; // its exit below has no LambdaFunctionSucceeded
        break;
      case 'StateExited':
        h.largestPayload = Math.max(h.largestPayload, size(e.state?.output));
        h.events += type === 'Task' || type === 'Map' ? 2 : 1; // LambdaFunctionSucceeded + TaskStateExited / MapStateSucceeded|MapRunSucceeded + MapStateExited
        break;
      default:
        break;
    }
  }
  return h;
}

/** How the fake hosts behave. */
export interface FleetScenario {
  hosts: number;
  strategy: Strategy;
  /** Checks of each distribution until it is done (1: done at the first look). */
  polls: number;
  /** Every n-th host fails its health check on every attempt and is rolled back (0: none fail). */
  failEvery?: number;
  mode?: 'new' | 'update';
  /** SALT_JOB_TIMEOUT_S and RELEASE_POLL_SECONDS, from which Prepare sizes the slices (defaults 300, 3). */
  jobTimeoutS?: number;
  pollSeconds?: number;
}

export interface FleetSimulation {
  /** The parent execution (the release). */
  release: ExecutionHistory;
  /** One per slice: the child executions of the batches' Distributed Maps (none with an inline-Map ASL). */
  slices: ExecutionHistory[];
  sliceSize: number;
  batches: number;
  tally: ReleaseState['tally'];
  status: string;
}

/** Host names as a fleet has them (long enough that the payloads are honest). */
export const hostName = (i: number) => `app-${String(i).padStart(5, '0')}.prod.eu-west-1.example.internal`;

/** A HealthCheckFailedError as the real host step throws it (the ASL retries it by name). */
class HealthCheckFailedError extends Error {
  override readonly name = 'HealthCheckFailedError';
}

/**
 * Runs a release of `scenario.hosts` fake hosts through the ASL file at `aslPath` (the real one by default),
 * every Wait and retry at 0 s, and returns every execution's AWS history. The fake tasks answer as the real
 * ones: Prepare plans with the real planner and sizes the slices with sliceSizeFor, Advance is the real tally,
 * the host steps return what releaseHostStep returns.
 */
export async function simulateRelease(aslPath: string, scenario: FleetScenario): Promise<FleetSimulation> {
  const definition = JSON.parse(readFileSync(aslPath, 'utf8')) as AslMachine;
  const targets = Array.from({ length: scenario.hosts }, (_, i) => hostName(i));
  const failing = new Set(scenario.failEvery ? targets.filter((_, i) => i % scenario.failEvery! === scenario.failEvery! - 1) : []);
  const sliceSize = sliceSizeFor(scenario.jobTimeoutS ?? 300, scenario.pollSeconds ?? 3);
  const plan = planRollout(targets, scenario.strategy);
  const polls = new Map<string, number>();

  const hostStep = async (event: HostStepEvent): Promise<unknown> => {
    const { host } = event;
    switch (event.step) {
      case 'distribute':
        return { jid: `2026120400000000${host.length}`, startedMs: 1, deadlineMs: 2, pollSeconds: 0, done: false } satisfies DistributionJob;
      case 'check': {
        const n = (polls.get(host) ?? 0) + 1;
        polls.set(host, n);
        return { ...event.job!, done: n >= scenario.polls } satisfies DistributionJob;
      }
      case 'health':
        if (failing.has(host)) throw new HealthCheckFailedError(`Health check failed on ${host} (exit 1): not ready`);
        return null;
      case 'commit':
        return { host, state: 'succeeded' } satisfies HostOutcome;
      case 'rollback':
        return {
          host,
          state: 'rolled-back',
          step: 'health',
          error: `HealthCheckFailedError: Health check failed on ${host} (exit 1): not ready`,
        } satisfies HostOutcome;
      case 'left-changed':
        return { host, state: 'failed' } satisfies HostOutcome;
      default:
        return null;
    }
  };
  const hostsOf = (batch: number, slice: number) => plan.batches[batch]!.slice(slice * sliceSize, (slice + 1) * sliceSize);

  const noWait = (d: AslMachine) => {
    const retries: Record<string, number> = {};
    const waits: Record<string, number> = {};
    const walk = (m: AslMachine) => {
      for (const [name, s] of Object.entries(m.States)) {
        if (s.Type === 'Wait') waits[name] = 0;
        if (s.ItemProcessor) walk(s.ItemProcessor);
      }
    };
    walk(d);
    for (const state of taskResources(d as never).keys()) retries[state] = 0;
    return { retryIntervalOverrides: retries, waitTimeOverrides: waits };
  };

  const histories: ExecutionHistory[] = [];
  const tallies = new Map<string, SliceTally>();
  let childSeq = 0;
  // The Distributed Map's ItemProcessor as a state machine of its own: what AWS runs as each child execution.
  const deployBatch = Object.values(definition.States).find(isDistributed);
  const childDefinition = deployBatch ? (({ ProcessorConfig: _p, ...m }) => m)(deployBatch.ItemProcessor!) : undefined;

  const childTasks = {
    releaseHostStep: hostStep,
    releaseSlice: async (e: { batch: number; slice: number; outcomes?: HostOutcome[] }) => (e.outcomes ? tallySlice(e.outcomes) : hostsOf(e.batch, e.slice)),
  };
  // one runner (one parsed, validated definition) for every child execution, as one state machine on AWS
  const child = childDefinition && new LocalStepFunctions(childDefinition as never, childTasks as never, noWait(childDefinition));
  const runChild = async (input: Json): Promise<SliceTally> => {
    if (!child) throw new Error('no Distributed Map in this definition');
    const name = `slice-${childSeq++}`;
    const { executionArn } = await child.startExecution({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, name, input: JSON.stringify(input) });
    const settled = await child.settled(executionArn);
    if (settled.status !== 'SUCCEEDED') throw new Error(`slice execution ${name} ${settled.status}: ${settled.error} ${settled.cause}`);
    histories.push(awsHistoryOf(child.history(executionArn) as LocalEvent[], childDefinition!));
    return JSON.parse(settled.output!) as SliceTally;
  };

  let finished: { tally: ReleaseState['tally'] } | undefined;
  const parentTasks = {
    releasePrepare: async (e: { release: { id: string } }) => {
      // the shape of today's state (release-tasks.ts); an older ASL is driven by its own state (see below)
      if (childDefinition) {
        return firstBatch(
          { id: e.release.id, mode: scenario.mode ?? 'new', health: true },
          { maxFailures: plan.maxFailures, minHealthy: plan.minHealthy, hosts: scenario.hosts },
          plan.batches.map((b) => b.length),
          sliceSize,
        );
      }
      return {
        release: { id: e.release.id, mode: scenario.mode ?? 'new', health: true },
        strategy: { maxFailures: plan.maxFailures, minHealthy: plan.minHealthy, hosts: scenario.hosts },
        batches: plan.batches,
        cursor: 0,
        batch: plan.batches[0],
        concurrency: plan.batches[0]!.length,
        tally: { succeeded: 0, rolledBack: 0, failed: 0 },
        done: false,
      };
    },
    releaseHostStep: hostStep,
    // In the parent's inline copy of a slice: start the child execution, give the copy no host, return its tally.
    releaseSlice: async (e: { release: Json; batch: number; slice: number; outcomes?: HostOutcome[] }) => {
      const key = `${e.batch}/${e.slice}`;
      if (e.outcomes) return tallies.get(key);
      tallies.set(key, await runChild({ release: e.release, batch: e.batch, slice: e.slice }));
      return [];
    },
    releaseAdvance: async (state: Json) => {
      if (childDefinition) return advanceRelease(state as unknown as ReleaseState, false);
      // an inline-Map ASL's state (batches of host ids, per-host results)
      const s = state as { batches: string[][]; cursor: number; results: HostOutcome[]; tally: ReleaseState['tally']; strategy: { maxFailures: number } };
      const tally = { ...s.tally };
      for (const r of s.results) tally[r.state === 'succeeded' ? 'succeeded' : 'rolledBack']++;
      const cursor = s.cursor + 1;
      const next = tally.rolledBack > s.strategy.maxFailures ? undefined : s.batches[cursor];
      const { results: _r, ...rest } = s;
      return { ...rest, tally, cursor, batch: next ?? [], concurrency: next?.length ?? 0, done: !next };
    },
    releaseFinish: async (state: { tally: ReleaseState['tally'] }) => {
      finished = state;
      const failed = state.tally.rolledBack + state.tally.failed;
      // the real summary lists every failed host (at most 20,000 characters)
      const summary = `${scenario.hosts} host(s): ${state.tally.succeeded} succeeded | ${targets
        .filter((h) => failing.has(h))
        .map((h) => `${h} rolled-back at health: HealthCheckFailedError: Health check failed on ${h} (exit 1): not ready`)
        .join(' | ')}`.slice(0, 20_000);
      return { status: failed ? 'ROLLED_BACK' : 'SUCCEEDED', summary, cause: summary };
    },
  };
  const parent = new LocalStepFunctions(definition as never, parentTasks as never, noWait(definition));
  const { executionArn } = await parent.startExecution({
    stateMachineArn: LOCAL_STATE_MACHINE_ARN,
    name: 'fleet',
    input: JSON.stringify({ release: { id: 'fleet', bucket: 'artifacts', key: '.saltstack-releases/fleet/request.json' } }),
  });
  const settled = await parent.settled(executionArn);
  const release = awsHistoryOf(parent.history(executionArn) as LocalEvent[], definition);
  return {
    release,
    slices: histories,
    sliceSize: childDefinition ? sliceSize : 0,
    batches: plan.batches.length,
    tally: finished?.tally ?? { succeeded: 0, rolledBack: 0, failed: 0 },
    status: settled.status,
  };
}

/** Every limit a simulated release breaks on AWS (none: it would run). */
export function limitViolations(sim: FleetSimulation): string[] {
  const out: string[] = [];
  const check = (what: string, h: ExecutionHistory) => {
    if (h.events >= AWS_LIMITS.eventsPerExecution) out.push(`${what}: ${h.events} history events (AWS stops an execution at ${AWS_LIMITS.eventsPerExecution})`);
    if (h.largestPayload > AWS_LIMITS.payloadBytes)
      out.push(`${what}: a state payload of ${h.largestPayload} bytes (AWS's limit is ${AWS_LIMITS.payloadBytes})`);
  };
  check('release execution', sim.release);
  sim.slices.forEach((h, i) => check(`slice execution ${i}`, h));
  return out;
}

/** Step Functions Standard pricing (us-east-1): $0.025 per 1,000 state transitions. */
export const USD_PER_TRANSITION = 0.025 / 1000;

/** Totals over every execution of a simulated release, per host, and its Step Functions cost per 1,000 hosts. */
export function fleetFigures(sim: FleetSimulation, hosts: number) {
  const all = [sim.release, ...sim.slices];
  const sum = (k: keyof ExecutionHistory) => all.reduce((n, h) => n + h[k], 0);
  return {
    executions: all.length,
    maxEventsPerExecution: Math.max(...all.map((h) => h.events)),
    releaseEvents: sim.release.events,
    eventsPerHost: sum('events') / hosts,
    transitionsPerHost: sum('transitions') / hosts,
    lambdaCallsPerHost: sum('lambdaCalls') / hosts,
    largestPayload: Math.max(...all.map((h) => h.largestPayload)),
    usdPer1000Hosts: (sum('transitions') / hosts) * 1000 * USD_PER_TRANSITION,
  };
}
