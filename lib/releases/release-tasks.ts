import { randomBytes } from 'node:crypto';
import { resolveSeed } from '../crypto/cipher-a.js';
import { dropPackage, HostSteps, outcomeError, preparePackage, type DistributeRequest } from '../deploy/host-steps.js';
import {
  ArtifactStoreError,
  HealthCheckFailedError,
  InputError,
  publicMessage,
  RollbackFailedError,
  SaltApiUnavailableError,
  StopRequestedError,
} from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';
import type { Runtime } from '../runtime-types.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import { validateItem } from '../input/validate-item.js';
import { targetExpressionField } from '../salt/target-expression.js';
import { planRelease, releaseInput, withHostList, type ReleaseInput } from './release-request.js';
import { sliceSizeFor, slicesOf } from './history-budget.js';
import { nextBatchRefusal, planRollout } from './release-plan.js';
import { releaseStoreOf, type HostRecord, type ReleaseRecord, type ReleaseResult, type ReleaseStatus } from './release-store.js';
import { registerRequestSecrets } from './request-secrets.js';
import { releaseEvent, sequence } from './release-events.js';
import { eventPublishing, publishReleaseEvent } from './publish-release-event.js';

/** What the state machine carries between states: ids and counters, never host lists or package data. */
export interface ReleaseState {
  release: { id: string; mode: 'new' | 'update'; health: boolean };
  /** The failure budget and the health floor in hosts, and the number of targets (planRollout). */
  strategy: { maxFailures: number; minHealthy: number; hosts: number };
  /** The number of hosts of every batch, as planned before the release started (the hosts are in release.json). */
  batchSizes: number[];
  /** Hosts per slice: one child execution of the batch's Distributed Map each (history-budget.ts). */
  sliceSize: number;
  cursor: number;
  /** The slices of the batch being deployed (the Distributed Map's items): 0 .. ceil(hosts / sliceSize) - 1. */
  slices: number[];
  /** The Map's MaxConcurrency: every slice of the batch at once (so every host of it). */
  concurrency: number;
  tally: { succeeded: number; rolledBack: number; failed: number };
  done: boolean;
  /** Later batches were not started (the error budget, minHealthy or release/stop)... */
  stoppedEarly?: boolean;
  /** ...and why. */
  haltReason?: string;
  /** A batch's slice tallies (the Distributed Map's result), consumed by releaseAdvance. */
  results?: SliceTally[];
}

/** One slice's outcomes counted (TallySlice): what its child execution returns to the batch. */
export interface SliceTally {
  succeeded: number;
  rolledBack: number;
  failed: number;
  skipped: number;
}

/** The hosts' outcomes of a slice, counted by state. Pure. */
export function tallySlice(outcomes: readonly HostOutcome[]): SliceTally {
  const tally: SliceTally = { succeeded: 0, rolledBack: 0, failed: 0, skipped: 0 };
  for (const o of outcomes) {
    if (o.state === 'succeeded') tally.succeeded++;
    else if (o.state === 'rolled-back') tally.rolledBack++;
    else if (o.state === 'failed') tally.failed++;
    else tally.skipped++;
  }
  return tally;
}

/** Slice tallies added up (a batch's, from its Distributed Map's result). Pure. */
export function sumTallies(tallies: readonly SliceTally[]): SliceTally {
  const sum: SliceTally = { succeeded: 0, rolledBack: 0, failed: 0, skipped: 0 };
  for (const t of tallies) {
    sum.succeeded += t.succeeded;
    sum.rolledBack += t.rolledBack;
    sum.failed += t.failed;
    sum.skipped += t.skipped;
  }
  return sum;
}

/** The state of a release about to deploy its first batch. */
export function firstBatch(release: ReleaseState['release'], strategy: ReleaseState['strategy'], batchSizes: number[], sliceSize: number): ReleaseState {
  const slices = slicesOf(batchSizes[0]!, sliceSize);
  return {
    release,
    strategy,
    batchSizes,
    sliceSize,
    cursor: 0,
    slices,
    concurrency: slices.length,
    tally: { succeeded: 0, rolledBack: 0, failed: 0 },
    done: false,
  };
}

/**
 * A batch's outcomes added to the tally, and whether the next batch starts: not once release/stop was asked
 * for, nor when the failures exceed maxFailures, nor when deploying it would leave fewer than minHealthy
 * hosts healthy. Pure (releaseAdvance reads the stop record).
 */
export function advanceRelease(state: ReleaseState, stopRequested: boolean): ReleaseState {
  const { results = [], stoppedEarly: _s, haltReason: _h, ...rest } = state;
  const batch = sumTallies(results);
  const tally = {
    succeeded: state.tally.succeeded + batch.succeeded,
    rolledBack: state.tally.rolledBack + batch.rolledBack,
    failed: state.tally.failed + batch.failed,
  };
  const cursor = state.cursor + 1;
  const next = state.batchSizes[cursor];
  const haltReason =
    next === undefined
      ? undefined
      : stopRequested
        ? 'the release was stopped (release/stop)'
        : nextBatchRefusal(state.strategy, state.strategy.hosts, tally.rolledBack + tally.failed, next);
  const done = next === undefined || haltReason !== undefined;
  const slices = done ? [] : slicesOf(next, state.sliceSize);
  return {
    ...rest,
    tally,
    cursor,
    slices,
    concurrency: slices.length,
    done,
    ...(haltReason !== undefined && { stoppedEarly: true, haltReason }),
  };
}

/** One host's end of a release (the Map iteration's output). */
export interface HostOutcome {
  host: string;
  /** skipped: release/stop came before the host's first step, which did not run. */
  state: 'succeeded' | 'rolled-back' | 'failed' | 'skipped';
  step?: string | undefined;
  error?: string | undefined;
}

/** A distribution job being polled by the state machine's Wait/Check loop. */
export interface DistributionJob {
  jid: string;
  startedMs: number;
  deadlineMs: number;
  pollSeconds: number;
  done: boolean;
}

export type HostStep = 'ensure-user' | 'stop' | 'distribute' | 'check' | 'start' | 'health' | 'commit' | 'rollback' | 'left-changed';

export interface HostStepEvent {
  step: HostStep;
  release: { id: string };
  host: string;
  job?: DistributionJob;
  /** A Catch's `{Error, Cause}`: why the host is being rolled back (rollback) or why the rollback failed. */
  failure?: { Error?: string; Cause?: string };
  rollbackFailure?: { Error?: string; Cause?: string };
}

export type TaskHandler = (event: unknown) => Promise<unknown>;

/** The error with every registered secret masked in its message and stack (same class, name and fields). */
export function maskError(error: unknown, redactor: Redactor): Error {
  const base = error instanceof Error ? error : new Error(String(error));
  const message = redactor.redactText(base.message);
  const stack = base.stack === undefined ? undefined : redactor.redactText(base.stack);
  if (message === base.message && stack === base.stack) return base;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(base) as object) as Error, base);
  copy.message = message;
  copy.stack = stack ?? '';
  return copy;
}

const causeOf = (f: { Error?: string; Cause?: string } | undefined): string => {
  if (!f) return 'unknown error';
  let cause = f.Cause ?? '';
  // Lambda wraps a thrown error as JSON {errorType, errorMessage, ...}; the local runner gives the message.
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // a plain message
  }
  return `${f.Error ?? 'Error'}: ${cause}`.slice(0, 2000);
};

/**
 * The release state machine's Lambda tasks (state-machines/release.asl.json): prepare the package once,
 * one step on one host at a time (records its progress for release/status), tally a batch against the
 * error budget, finish with every host's outcome. Named after the functions that serve them.
 */
export function releaseTasks(rt: Runtime) {
  const steps = new HostSteps(rt);
  const records = releaseStoreOf(rt);
  const redactor = rt.logger.redactor;
  const cache = new Map<string, ReleaseRecord>();
  /** The request record as stored; its secrets registered for redaction (once per release and Lambda). */
  const requests = new Map<string, unknown>();
  const requestOf = async (id: string, ref = records.requestRef(id)): Promise<unknown> => {
    if (!requests.has(id)) {
      const raw = await records.getJson<unknown>(ref);
      registerRequestSecrets(raw, redactor, rt.config, id);
      requests.set(id, raw);
    }
    return requests.get(id);
  };
  const releaseOf = async (id: string): Promise<ReleaseRecord> => {
    let record = cache.get(id);
    if (!record) {
      record = await records.getRelease(id);
      if (!record) throw new InputError(`Release ${id} has no plan (release.json missing)`);
      await requestOf(id, { ...record.request, url: `s3://${record.request.bucket}/${record.request.key}` });
      cache.set(id, record);
    }
    return record;
  };
  const publishing = eventPublishing(rt, records);
  const sizesOf = (batches: readonly string[][]) => batches.map((b) => b.length);
  /** A failed host's event: numbered by its place in the plan (batch, then position). */
  const hostFailed = (
    id: string,
    release: ReleaseRecord,
    failure: { host: string; step: string | undefined; state: 'rolled-back' | 'failed'; error: string; rollback?: string },
  ) => {
    const batch = release.batches.findIndex((b) => b.includes(failure.host));
    const index = release.batches[batch]?.indexOf(failure.host) ?? 0;
    return publishReleaseEvent(
      publishing,
      releaseEvent('release.host-failed', id, sequence.hostFailed(sizesOf(release.batches), batch + 1, index), {
        host: failure.host,
        batch: batch + 1,
        ...(failure.step && { step: failure.step }),
        state: failure.state,
        error: redactor.redactText(failure.error),
        ...(failure.rollback !== undefined && { rollback: redactor.redactText(failure.rollback) }),
      }),
    );
  };
  const context = (logger: Logger): RunContext => ({ logger, signal: new AbortController().signal, concurrency: rt.config.itemConcurrency });
  const must = <O>(outcome: ItemOutcome<O> | undefined): O => {
    if (!outcome) throw new Error('no outcome');
    if (!outcome.ok) throw outcomeError(outcome);
    return outcome.output;
  };

  /** Reads the request (the release/start item or the manifest), validates it, prepares the package, plans. */
  const releasePrepare = async (event: { release: { id: string; bucket: string; key: string; onlyBucket?: string } }): Promise<ReleaseState> => {
    const { id } = event.release;
    const logger = rt.logger.child({ release: id });
    const requestRef = { bucket: event.release.bucket, key: event.release.key };
    const raw = await requestOf(id, { ...requestRef, url: `s3://${requestRef.bucket}/${requestRef.key}` });
    if (raw === undefined) throw new InputError(`Release request s3://${event.release.bucket}/${event.release.key} not found`);
    // targetsFrom is release/start's record of the expression the targets were resolved from, not a request field
    const { targetsFrom, ...given } = (raw ?? {}) as { targetsFrom?: unknown };
    const request: ReleaseInput = withHostList(
      validateItem(releaseInput, given),
      targetsFrom === undefined ? undefined : validateItem(targetExpressionField(), targetsFrom),
    );
    const plan = planRelease(id, request);
    const endpoint = request.endpoint?.trim() || `s3://${event.release.bucket}/${request.packageKey!.trim()}`;
    const guid = request.guid ?? id;
    const prepared = await preparePackage(
      rt,
      {
        guid,
        endpoint,
        confFiles: request.confFiles,
        variableList: request.variableList,
        seed: request.seed,
        appPublicKey: request.appPublicKey,
        sysPrivateKey: request.sysPrivateKey,
        replacementBucket: event.release.onlyBucket,
      },
      context(logger),
    );
    const rollout = planRollout(request.targets, request.strategy);
    const { batches } = rollout;
    const sliceSize = sliceSizeFor(rt.config.salt.jobTimeoutS, rt.config.releases.pollSeconds);
    await records.putRelease(id, {
      plan,
      pkg: prepared.facts,
      s3PkgPath: prepared.s3PkgPath,
      repacked: prepared.s3PkgPath !== endpoint,
      request: requestRef,
      targets: request.targets,
      ...(request.targetsFrom && { targetsFrom: request.targetsFrom }),
      batches,
      sliceSize,
      strategy: request.strategy,
      maxFailures: rollout.maxFailures,
      minHealthy: rollout.minHealthy,
      guid,
      rwDir: request.rwDir,
      rwFile: request.rwFile,
      createdAt: new Date().toISOString(),
    });
    logger.info('release prepared', { hosts: request.targets.length, batches: batches.length, sliceSize, package: prepared.s3PkgPath });
    return firstBatch(
      { id, mode: plan.mode, health: !!plan.health },
      { maxFailures: rollout.maxFailures, minHealthy: rollout.minHealthy, hosts: request.targets.length },
      batches.map((b) => b.length),
      sliceSize,
    );
  };

  /** One step on one host; its progress record is rewritten before and after. */
  const releaseHostStep = async (event: HostStepEvent): Promise<unknown> => {
    const { host, step } = event;
    const id = event.release.id;
    const logger = rt.logger.child({ release: id, host, step });
    const ctx = context(logger);
    const release = await releaseOf(id);
    const { plan } = release;
    const record: HostRecord = (await records.getHost(id, host)) ?? { host, state: 'pending', done: [], updatedAt: '' };
    const save = (changes: Partial<HostRecord>) => records.putHost(id, Object.assign(record, redactRecord(changes), { updatedAt: new Date().toISOString() }));
    const distribution: DistributeRequest = { host, dir: plan.dir, clear: plan.clear, pkg: release.pkg, owner: plan.user };

    if (step === 'rollback') return rollBack(event, release, record, save, ctx);
    if (step === 'left-changed') {
      const error = causeOf(event.failure);
      const rollback = `ROLLBACK FAILED: ${causeOf(event.rollbackFailure)}`;
      await save({ state: 'failed', error, rollback });
      await hostFailed(id, release, { host, step: record.step, state: 'failed', error, rollback });
      return { host, state: 'failed', step: record.step, error } satisfies HostOutcome;
    }

    const started = Date.now();
    try {
      // A distribution being polled finishes (its salt job runs on); every other step refuses to begin once
      // release/stop was asked for, and the Catch puts the host back. Read each time: never cached.
      if (step !== 'check' && (await records.getStop(id))) {
        throw new StopRequestedError(`release ${id} was stopped (release/stop) before ${step} on ${host}`);
      }
      if (step !== 'check') await save({ state: 'running', step, error: undefined });
      let result: unknown = null;
      switch (step) {
        case 'ensure-user': {
          // the password and seed are read from the request record: release.json holds no secret
          const request = (await requestOf(id)) as { password?: unknown; seed?: unknown } | undefined;
          const given = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
          const seed = resolveSeed(given(request?.seed), rt.config.encryptSeed) || randomBytes(12).toString('hex');
          must(
            (
              await steps.ensureUsers(
                [{ host, guid: release.guid, user: plan.user, password: given(request?.password), seed, rwDir: release.rwDir, rwFile: release.rwFile }],
                ctx,
              )
            )[0],
          );
          break;
        }
        case 'stop':
          must((await steps.runScripts([{ host, script: plan.stop!, user: plan.user.user }], ctx))[0]);
          break;
        case 'distribute': {
          const jid = await steps.submitDistribute(distribution, ctx);
          const startedMs = Date.now();
          result = {
            jid,
            startedMs,
            deadlineMs: startedMs + rt.config.salt.jobTimeoutS * 1000,
            pollSeconds: rt.config.releases.pollSeconds,
            done: false,
          } satisfies DistributionJob;
          break;
        }
        case 'check': {
          const job = event.job!;
          const { done } = await steps.checkDistribute(job.jid, distribution, job, ctx);
          result = { ...job, done } satisfies DistributionJob;
          if (!done) return result;
          break;
        }
        case 'start':
          must((await steps.runScripts([{ host, script: plan.start, user: plan.user.user, args: plan.args }], ctx))[0]);
          break;
        case 'health': {
          const [outcome] = await steps.runScripts([{ host, script: plan.health!, user: plan.user.user }], ctx);
          if (!outcome!.ok) {
            const out = outcome!.output;
            throw new HealthCheckFailedError(`Health check failed on ${host} (exit ${out?.retCode ?? '?'}): ${(out?.detail ?? '').slice(0, 500)}`, host);
          }
          break;
        }
        case 'commit': {
          const outcome = (await steps.commit([{ host, dir: plan.dir }], ctx))[0]!;
          if (!outcome.ok) logger.warn('snapshot not dropped', { error: outcomeError(outcome) });
          await save({ state: 'succeeded', step: undefined, done: [...record.done, 'commit'] });
          logger.info('host released', { ms: Date.now() - started });
          return { host, state: 'succeeded' } satisfies HostOutcome;
        }
        default:
          throw new InputError(`unknown release step ${String(step)}`);
      }
      await save({ done: [...record.done, step === 'check' ? 'distributed' : step] });
      logger.info('release step done', { ms: Date.now() - started });
      return result;
    } catch (error) {
      await save({ error: publicMessage(error) }).catch(() => undefined);
      throw error;
    }
  };

  /** A host record's texts (salt and script output) with the release's secrets masked. */
  const redactRecord = (changes: Partial<HostRecord>): Partial<HostRecord> => ({
    ...changes,
    ...(changes.error !== undefined && { error: redactor.redactText(changes.error) }),
    ...(changes.rollback !== undefined && { rollback: redactor.redactText(changes.rollback) }),
  });

  /**
   * Puts a failed host back, undoing exactly what its record says was done: the new version stopped (when
   * start ran and there is a stop script), the snapshot restored (when the distribution started), the
   * previous version started again (update, once its stop had run). Throws RollbackFailedError otherwise.
   */
  async function rollBack(
    event: HostStepEvent,
    release: ReleaseRecord,
    record: HostRecord,
    save: (changes: Partial<HostRecord>) => Promise<void>,
    ctx: RunContext,
  ): Promise<HostOutcome> {
    const { plan } = release;
    const { host } = event;
    const failedStep = record.step;
    const error = causeOf(event.failure);
    if (event.failure?.Error === 'StopRequestedError' && failedStep === undefined && !record.done.length) {
      await save({ state: 'skipped', error: 'not started: the release was stopped (release/stop)', rollback: undefined });
      return { host, state: 'skipped' };
    }
    const attempted = new Set([...record.done, ...(failedStep ? [failedStep] : [])]);
    // `step` keeps naming the failed step while the rollback runs: a retried rollback reads it again
    await save({ state: 'running', error, rollback: 'in progress' });
    const [result] = await steps.putBack(
      [
        {
          host,
          dir: plan.dir,
          user: plan.user.user,
          stopNew: attempted.has('start') || attempted.has('health') ? plan.stop : undefined,
          restore: attempted.has('distribute'),
          startOld: plan.mode === 'update' && attempted.has('stop') ? { script: plan.start, args: plan.args } : undefined,
        },
      ],
      ctx,
    );
    const { ok, notes, error: rollbackError } = result!;
    if (!ok) {
      // salt-api or S3 briefly away: let the state's Retry run the rollback again (each of its steps is idempotent)
      if (rollbackError instanceof SaltApiUnavailableError || rollbackError instanceof ArtifactStoreError) {
        await save({ rollback: [...notes, `interrupted: ${rollbackError.message}`].join('; ') }).catch(() => undefined);
        throw rollbackError;
      }
      const failure = new RollbackFailedError(`rollback on ${host} failed: ${notes.join('; ')}`, host);
      await save({ rollback: `FAILED: ${notes.join('; ')}` }).catch(() => undefined);
      throw failure;
    }
    const rollback = notes.join('; ') || 'nothing to undo';
    await save({ state: 'rolled-back', error, rollback });
    ctx.logger.warn('host rolled back', { failedStep, error, rollback });
    await hostFailed(event.release.id, release, { host, step: failedStep, state: 'rolled-back', error, rollback });
    return { host, state: 'rolled-back', step: failedStep, error };
  }

  /**
   * One slice of a batch (a child execution of its Distributed Map): its hosts from release.json (LoadSlice),
   * or, given their outcomes, their tally (TallySlice), so that no host list travels through the parent.
   */
  const releaseSlice = async (event: { release: { id: string }; batch: number; slice: number; outcomes?: HostOutcome[] }): Promise<string[] | SliceTally> => {
    if (event.outcomes) return tallySlice(event.outcomes);
    const record = await releaseOf(event.release.id);
    const batch = record.batches[event.batch];
    const size = record.sliceSize;
    const hosts = batch?.slice(event.slice * size, (event.slice + 1) * size) ?? [];
    if (!hosts.length) throw new InputError(`Release ${event.release.id} has no slice ${event.slice} in batch ${event.batch}`);
    return hosts;
  };

  /** Adds a batch's outcomes to the tally; no further batch when stopped, over the budget or under minHealthy. */
  const releaseAdvance = async (state: ReleaseState): Promise<ReleaseState> => {
    const stopped = state.cursor + 1 < state.batchSizes.length && !!(await records.getStop(state.release.id));
    const next = advanceRelease(state, stopped);
    const id = state.release.id;
    await records.putProgress(id, { batchesDone: next.cursor, at: new Date().toISOString() });
    const outcomes = sumTallies(state.results ?? []);
    await publishReleaseEvent(
      publishing,
      releaseEvent('release.batch-ended', id, sequence.batchEnded(state.batchSizes, next.cursor), {
        batch: next.cursor,
        of: state.batchSizes.length,
        hosts: state.batchSizes[state.cursor] ?? 0,
        outcomes,
        total: next.tally,
        next: !next.done ? 'next-batch' : next.stoppedEarly ? 'halted' : 'none',
        ...(next.haltReason !== undefined && { haltReason: next.haltReason }),
      }),
    );
    rt.logger.info('release batch done', {
      release: state.release.id,
      batch: next.cursor,
      of: state.batchSizes.length,
      ...next.tally,
      ...(next.stoppedEarly && { stoppedEarly: true, reason: next.haltReason }),
    });
    return next;
  };

  /** Every host's outcome (hosts never started are marked skipped), the release status, the result record. */
  const releaseFinish = async (
    state: Partial<ReleaseState> & {
      release: { id: string };
      prepareError?: { Error?: string; Cause?: string };
      internalError?: { Error?: string; Cause?: string };
    },
  ): Promise<{ status: ReleaseStatus; summary: string; cause: string }> => {
    const { id } = state.release;
    const release = state.prepareError ? undefined : await records.getRelease(id);
    const stop = release ? await records.getStop(id) : undefined;
    // a refused request's secrets too: the refusal's cause is built from what it said
    await requestOf(id).catch(() => undefined);
    let result: ReleaseResult;
    if (!release) {
      const summary = `release refused, no host was touched: ${causeOf(state.prepareError)}`;
      result = { status: 'PREPARE_FAILED', summary, hosts: [], finishedAt: new Date().toISOString() };
    } else {
      const hosts = await Promise.all(
        release.targets.map(async (host) => {
          let record = await records.getHost(id, host);
          if (!record || record.state === 'pending') {
            const error = `not started: ${state.haltReason ?? (stop ? 'the release was stopped (release/stop)' : 'the release ended before it')}`;
            record = { host, state: 'skipped', done: [], updatedAt: new Date().toISOString(), error };
            await records.putHost(id, record);
          }
          const text = (t: string | undefined) => (t === undefined ? undefined : redactor.redactText(t));
          return { host, state: record.state, step: record.step, error: text(record.error), rollback: text(record.rollback) };
        }),
      );
      const count = (s: string) => hosts.filter((h) => h.state === s).length;
      // A stop that came too late to change anything (every host released) is no stop.
      const stopped = !!stop && count('succeeded') < hosts.length;
      const status: ReleaseStatus = stopped
        ? 'STOPPED'
        : count('failed') || count('running')
          ? 'LEFT_CHANGED'
          : count('rolled-back') || count('skipped')
            ? 'ROLLED_BACK'
            : 'SUCCEEDED';
      const failures = hosts
        .filter((h) => h.state !== 'succeeded' && h.state !== 'skipped')
        .map((h) => `${h.host} ${h.state} at ${h.step ?? '?'}: ${h.error ?? ''}`);
      const summary =
        (state.internalError ? `the release stopped on an internal error (${causeOf(state.internalError)}) | ` : '') +
        (stopped ? `stopped by release/stop at ${stop.requestedAt} | ` : state.haltReason ? `no further batch started: ${state.haltReason} | ` : '') +
        `${hosts.length} host(s): ${count('succeeded')} succeeded, ${count('rolled-back')} rolled back, ${count('failed') + count('running')} failed and left changed, ${count('skipped')} skipped` +
        (failures.length ? ` | ${failures.join(' | ')}` : '');
      result = { status, summary: summary.slice(0, 20_000), hosts, finishedAt: new Date().toISOString() };
    }
    result.summary = redactor.redactText(result.summary);
    await records.putResult(id, result);
    const finishedAt = result.finishedAt;
    if (!(await records.updateListing(id, { result: result.status, finishedAt }))) rt.logger.warn('release not listed: its end is not either', { release: id });
    const count = (s: string) => result.hosts.filter((h) => h.state === s).length;
    await publishReleaseEvent(
      publishing,
      releaseEvent('release.ended', id, sequence.ended(release ? sizesOf(release.batches) : []), {
        result: result.status,
        hosts: result.hosts.length,
        succeeded: count('succeeded'),
        rolledBack: count('rolled-back'),
        failed: count('failed') + count('running'),
        skipped: count('skipped'),
        summary: result.summary.slice(0, 2000),
      }),
    );
    // Every event of the release has been published (or not) by now: the count is final.
    const eventsFailed = await records.countEventFailures(id);
    if (eventsFailed) await records.putResult(id, { ...result, eventsFailed });
    // The end, whatever the outcome: the request keeps no secret, and no package with substituted values stays.
    await records.dropRequestSecrets(records.requestRef(id));
    await dropPackage(rt, release?.pkg);
    if (release?.repacked) {
      await rt
        .store()
        .remove(release.pkg.ref)
        .catch((error: unknown) => rt.logger.warn('re-packed package not removed', { release: id, package: release.pkg.ref.url, error }));
    }
    requests.delete(id);
    cache.delete(id);
    rt.logger.info('release finished', { release: id, status: result.status });
    // Not the hosts: the execution's output would outgrow AWS's 256 KiB on a large fleet (release/status has them).
    return { status: result.status, summary: result.summary, cause: result.summary };
  };

  /**
   * A task whose errors leave with the release's secrets masked: a thrown error's name and message become
   * the execution history's Error and Cause (and Lambda's error log, stack included).
   */
  const masked =
    (task: (event: never) => Promise<unknown>): TaskHandler =>
    async (event) => {
      try {
        return await task(event as never);
      } catch (error) {
        throw maskError(error, redactor);
      }
    };

  return {
    releasePrepare: masked(releasePrepare),
    releaseHostStep: masked(releaseHostStep),
    releaseSlice: masked(releaseSlice),
    releaseAdvance: masked(releaseAdvance),
    releaseFinish: masked(releaseFinish),
  };
}
