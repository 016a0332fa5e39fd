import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InputError, publicMessage, ReleaseExistsError, ReleaseNotFoundError, SaltApiRequestError } from '../errors.js';
import { timestamp } from '../artifacts/package-name.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime-types.js';
import { commonFields, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { validateItem } from '../input/validate-item.js';
import { resolveTargetExpression, type TargetExpression } from '../salt/target-expression.js';
import { executionName, planRelease, releaseIdProblem, releaseInput, withHostList, type ReleaseInput, type ReleaseRequest } from './release-request.js';
import { checkManifestBuckets, isManifest, MANIFEST_SUFFIX, uploaderRefusal, type ManifestPolicy } from './manifest-guard.js';
import { planRollout, planSummary } from './release-plan.js';
import { releaseEvent, sequence } from './release-events.js';
import { eventPublishing, publishReleaseEvent } from './publish-release-event.js';
import { releaseStoreOf, type HostState } from './release-store.js';
import { executionArnOf } from './step-functions-port.js';

const storeOf = releaseStoreOf;

/**
 * Starts a release: validates the request and its host plan, keeps the request in the release records
 * (the execution input is only its key: variables and passwords stay out of the execution history), and
 * starts the state machine under the release id. A package named by `packageKey` is read from `bucket`.
 * Returns the rollout plan too (batch sizes, budgets in hosts): what Prepare will compute again from the request.
 */
export async function startRelease(
  rt: Runtime,
  given: ReleaseRequest,
  options: { id: string; bucket: string; logger: Logger; onlyBucket?: string },
): Promise<{ releaseId: string; executionArn: string; plan: ReturnType<typeof planSummary>; targets: string[]; targetsFrom?: TargetExpression }> {
  planRelease(options.id, given); // refuse a bad plan before anything is stored
  // A salt expression is resolved here, once, by the master's matching: the release is then fixed (the ids are
  // recorded with the expression they came from), whatever the fleet's grains become while it runs.
  const request: ReleaseInput = Array.isArray(given.targets)
    ? withHostList(given)
    : withHostList({ ...given, targets: await resolveTargetExpression(rt.salt(), given.targets) }, given.targets);
  const rollout = planRollout(request.targets, request.strategy);
  await refuseUnknownTargets(rt, request.targets, options.logger);
  const records = storeOf(rt);
  const ref = records.requestRef(options.id);
  const stored: ReleaseInput = { ...request, endpoint: request.endpoint?.trim() || `s3://${options.bucket}/${request.packageKey!.trim()}` };
  await records.putRequest(options.id, stored); // the one record holding the secrets: SSE-KMS, cleared at the end
  const { port, stateMachineArn } = await rt.releaseRunner();
  // onlyBucket (manifest releases): Prepare reads whole-file replacements from that bucket only.
  const input = JSON.stringify({
    release: { id: options.id, bucket: ref.bucket, key: ref.key, ...(options.onlyBucket && { onlyBucket: options.onlyBucket }) },
  });
  const { executionArn, startDate } = await port.startExecution({ stateMachineArn, name: options.id, input });
  const plan = planSummary(rollout);
  options.logger.info('release started', {
    release: options.id,
    hosts: request.targets.length,
    ...(request.targetsFrom && { targetsFrom: request.targetsFrom }),
    mode: request.mode,
    batches: plan.batches,
  });
  // After the start: a listing or an event that fails leaves the release running (and says so).
  const startedAt = startDate.toISOString();
  await records
    .putListing({ releaseId: options.id, name: request.name?.trim() || undefined, targets: request.targets.length, startedAt })
    .catch((error: unknown) =>
      options.logger.warn('release not listed (release/list will not show it)', { release: options.id, reason: publicMessage(error) }),
    );
  await publishReleaseEvent(
    eventPublishing(rt, records),
    releaseEvent('release.started', options.id, sequence.started(), {
      ...(request.name?.trim() && { name: request.name.trim() }),
      mode: request.mode,
      hosts: plan.hosts,
      batches: plan.batches,
      maxFailures: plan.maxFailures,
      minHealthy: plan.minHealthy,
      source: options.onlyBucket ? 'manifest' : 'api',
    }),
  );
  return { releaseId: options.id, executionArn, plan, targets: request.targets, ...(request.targetsFrom && { targetsFrom: request.targetsFrom }) };
}

/**
 * Refuses targets the master has no accepted key for (a typo, a host never installed): they would fail at
 * their first step anyway, after other hosts were changed. Skipped, with a warning, when salt-api does not
 * let this user list keys (the wheel client).
 */
async function refuseUnknownTargets(rt: Runtime, targets: readonly string[], logger: Logger): Promise<void> {
  let keys: unknown;
  try {
    keys = await rt.salt().wheel('key.list_all');
  } catch (error) {
    if (!(error instanceof SaltApiRequestError)) throw error;
    logger.warn('release targets not checked against the master keys', { reason: error.message });
    return;
  }
  const accepted = new Set(((keys as { minions?: unknown } | null)?.minions as unknown[] | undefined)?.map(String) ?? []);
  const unknown = targets.filter((t) => !accepted.has(t));
  if (unknown.length) {
    throw new InputError(`Parameter targets validation failed: not known to the master (no accepted key): ${unknown.slice(0, 20).join(', ')}`);
  }
}

/** release/start: one release per item; returns the release id (= execution name) and the execution ARN. */
export const releaseStart = (rt: Runtime) =>
  defineOperation({
    plugin: 'release',
    action: 'start',
    summary: 'Start a rolling release (state machine): package prepared once, host batches, health checks, rollback per host',
    input: releaseInput,
    output: z.object({
      releaseId: z.string(),
      executionArn: z.string(),
      plan: z
        .object({
          hosts: z.number().describe('targets'),
          batches: z.array(z.number()).describe('the number of hosts of each batch, in order'),
          maxFailures: z.number().describe('failed hosts tolerated (no further batch once more have failed)'),
          minHealthy: z.number().describe('hosts that must stay healthy (no batch starts that would leave fewer)'),
        })
        .describe('what the release will do, computed from targets and strategy before it started'),
      targets: z.array(z.string()).describe('the minion ids released, in order (an expression resolved by the master)'),
      targetsFrom: z.object({ type: z.string(), expression: z.string() }).optional().describe('the salt target expression the targets were resolved from'),
    }),
    run: eachItem(async (item, ctx) => {
      const bucket = rt.config.s3.bucket;
      if (!bucket && !item.endpoint?.trim()) throw new InputError('Parameter endpoint can not empty. (packageKey needs S3_BUCKET)');
      const id = executionName(item.name, `${timestamp(new Date())}-${randomBytes(3).toString('hex')}`);
      return startRelease(rt, item, { id, bucket: bucket ?? '', logger: ctx.logger });
    }),
  });

const hostOutput = z.object({
  host: z.string(),
  state: z.enum(['pending', 'running', 'succeeded', 'failed', 'rolled-back', 'skipped']).describe('failed: left changed (its rollback failed)'),
  step: z.string().optional().describe('the step running, or the step that failed'),
  error: z.string().optional(),
  rollback: z.string().optional().describe('what was put back on a failed host'),
});

/** release/status: the execution's state and every host's progress (pending / running <step> / done / failed / rolled back). */
export const releaseStatus = (rt: Runtime) =>
  defineOperation({
    plugin: 'release',
    action: 'status',
    summary: "A release's state and per-host progress: pending, running (step), succeeded, failed, rolled-back, skipped",
    input: z.object({ ...commonFields, releaseId: requiredString() }),
    output: z.object({
      releaseId: z.string(),
      status: z.string().describe('RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (the execution); UNKNOWN when only its records are left'),
      result: z.string().optional().describe('SUCCEEDED, ROLLED_BACK, LEFT_CHANGED, STOPPED, PREPARE_FAILED once finished'),
      stopRequestedAt: z.string().optional().describe('when release/stop was asked for'),
      summary: z.string().optional(),
      targetsFrom: z
        .object({ type: z.string(), expression: z.string() })
        .optional()
        .describe('the salt target expression release/start resolved the hosts from'),
      eventsFailed: z.number().describe('release events a destination (EventBridge, the webhook) did not take; the release went on'),
      hosts: z.array(hostOutput),
    }),
    run: eachItem(async (item) => {
      const id = item.releaseId.trim();
      const problem = releaseIdProblem(id);
      if (problem) throw new InputError(`Parameter releaseId validation failed: ${problem}`);
      const records = storeOf(rt);
      const { port, stateMachineArn } = await rt.releaseRunner();
      const [described, release, result, stop, eventsFailed] = await Promise.all([
        port
          .describeExecution({ executionArn: executionArnOf(stateMachineArn, id) })
          .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
        records.getRelease(id),
        records.getResult(id),
        records.getStop(id),
        records.countEventFailures(id),
      ]);
      // An execution the runner no longer knows (a local one after a restart) is still told by its records.
      if (described instanceof Error && !(described instanceof ReleaseNotFoundError && (release || result))) throw described;
      const execution: { status: string; error?: string | undefined; cause?: string | undefined } =
        described instanceof Error ? { status: result ? (result.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED') : 'UNKNOWN' } : described;
      const hosts = await Promise.all(
        (release?.targets ?? []).map(async (host) => {
          const record = await records.getHost(id, host);
          const state: HostState = record?.state ?? 'pending';
          return {
            host,
            state,
            ...(record?.step && { step: record.step }),
            ...(record?.error && { error: record.error }),
            ...(record?.rollback && { rollback: record.rollback }),
          };
        }),
      );
      return {
        releaseId: id,
        status: execution.status,
        ...(result && { result: result.status, summary: result.summary }),
        ...(stop && { stopRequestedAt: stop.requestedAt }),
        ...(!result && execution.status === 'FAILED' && { summary: `${execution.error ?? ''}: ${execution.cause ?? ''}` }),
        ...(release?.targetsFrom && { targetsFrom: release.targetsFrom }),
        eventsFailed,
        hosts,
      };
    }),
  });

/**
 * release/stop: asks a running release to stop, by a stop record the release's tasks read before each host
 * step and each batch (the same on AWS and locally: StopExecution would kill tasks in flight mid-step). No
 * new host starts; a host in flight finishes its step and is put back; the result is STOPPED. Asking again
 * keeps the first request; a release that has ended is left as it is and its result returned.
 */
export const releaseStop = (rt: Runtime) =>
  defineOperation({
    plugin: 'release',
    action: 'stop',
    summary: 'Stop a release: no new host starts, hosts in flight finish their step and are put back; its result becomes STOPPED',
    input: z.object({ ...commonFields, releaseId: requiredString() }),
    output: z.object({
      releaseId: z.string(),
      status: z.string().describe('STOPPING (asked; release/status tells when it has ended), or ENDED when it had ended already'),
      result: z.string().optional().describe('the result of a release that had ended (nothing changed)'),
      stopRequestedAt: z.string().optional(),
    }),
    run: eachItem(async (item, ctx) => {
      const id = item.releaseId.trim();
      const problem = releaseIdProblem(id);
      if (problem) throw new InputError(`Parameter releaseId validation failed: ${problem}`);
      const records = storeOf(rt);
      const { port, stateMachineArn } = await rt.releaseRunner();
      const [described, release, result, stop] = await Promise.all([
        port.describeExecution({ executionArn: executionArnOf(stateMachineArn, id) }).catch((error: unknown) => {
          if (error instanceof ReleaseNotFoundError) return undefined;
          throw error;
        }),
        records.getRelease(id),
        records.getResult(id),
        records.getStop(id),
      ]);
      if (result) return { releaseId: id, status: 'ENDED', result: result.status, ...(stop && { stopRequestedAt: stop.requestedAt }) };
      if (described && described.status !== 'RUNNING') return { releaseId: id, status: 'ENDED', result: described.status };
      if (!described && !release) throw new ReleaseNotFoundError(`Release ${id} not found`);
      const requestedAt = stop?.requestedAt ?? new Date().toISOString();
      if (!stop) {
        await records.putStop(id, { requestedAt });
        // Numbered before anything of the batch running now (Advance records the batches done).
        const progress = release && (await records.getProgress(id));
        const seq = sequence.stopped(release?.batches.map((b) => b.length) ?? [], progress?.batchesDone ?? 0);
        await publishReleaseEvent(eventPublishing(rt, records), releaseEvent('release.stopped', id, seq, { requestedAt }));
      }
      ctx.logger.info('release stop requested', { release: id });
      return { releaseId: id, status: 'STOPPING', stopRequestedAt: requestedAt };
    }),
  });

/** An S3 notification record (the fields the trigger reads). */
interface S3EventRecord {
  eventName?: string;
  userIdentity?: { principalId?: string };
  s3?: { bucket?: { name?: string }; object?: { key?: string; eTag?: string; versionId?: string } };
}

/** S3 event keys are URL-encoded, with `+` for spaces. */
const decodeKey = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));

export { MANIFEST_SUFFIX };

/** Where the result of a manifest is written: `<name>.release.json` → `<name>.release-result.json`. */
export const manifestResultKey = (key: string) => `${key.slice(0, -MANIFEST_SUFFIX.length)}.release-result.json`;

/**
 * The S3 trigger: a `*.release.json` object created under RELEASE_MANIFEST_PREFIX of the artifact bucket
 * by an uploader on RELEASE_UPLOADERS starts a release whose packages all come from that bucket. The
 * execution name comes from the key and the ETag, so a repeated event for the same upload starts nothing
 * new (Step Functions refuses the name, or returns the running execution). A refused or invalid manifest
 * starts nothing and the reason is written next to it; so is the release id of a valid one. Objects
 * outside the prefix (or bucket) get no answer.
 */
export function releaseTrigger(rt: Runtime) {
  const records = storeOf(rt);
  const policy: ManifestPolicy = { bucket: rt.config.s3.bucket, prefix: rt.config.releases.manifestPrefix, uploaders: rt.config.releases.uploaders };
  return async (event: { Records?: S3EventRecord[] }): Promise<{ started: string[]; duplicates: string[]; invalid: string[]; refused: string[] }> => {
    const outcome = { started: [] as string[], duplicates: [] as string[], invalid: [] as string[], refused: [] as string[] };
    for (const record of event.Records ?? []) {
      const bucket = record.s3?.bucket?.name;
      const rawKey = record.s3?.object?.key;
      if (!bucket || !rawKey || !record.eventName?.startsWith('ObjectCreated')) continue;
      const key = decodeKey(rawKey);
      if (!isManifest(policy, bucket, key)) {
        // Said once, for an operator who put a manifest in the wrong place; nothing is written there.
        if (key.endsWith(MANIFEST_SUFFIX))
          rt.logger.info('release manifest ignored: not under the manifest prefix of the artifact bucket', {
            manifest: `s3://${bucket}/${key}`,
            prefix: policy.prefix,
          });
        continue;
      }
      const etag = (record.s3?.object?.eTag ?? '').replace(/"/g, '');
      const id = executionName(
        key.slice(key.lastIndexOf('/') + 1, -MANIFEST_SUFFIX.length),
        createHash('sha256').update(`${bucket}/${key}@${etag}`).digest('hex').slice(0, 16),
      );
      const logger = rt.logger.child({ release: id, manifest: `s3://${bucket}/${key}` });
      const resultRef = { bucket, key: manifestResultKey(key), url: `s3://${bucket}/${manifestResultKey(key)}` };
      const refusal = uploaderRefusal(policy, record.userIdentity?.principalId);
      if (refusal) {
        logger.warn('release manifest refused', { reason: refusal });
        await records.putJson(resultRef, { manifest: key, eTag: etag, status: 'REFUSED', error: refusal, at: new Date().toISOString() });
        outcome.refused.push(key);
        continue;
      }
      let request: ReleaseRequest;
      try {
        const raw = await records.getJson<unknown>({ bucket, key, url: `s3://${bucket}/${key}` });
        if (raw === undefined) throw new InputError(`manifest s3://${bucket}/${key} is gone`);
        request = validateItem(releaseInput, raw);
        planRelease(id, request);
        // (a target expression is resolved, and its plan checked, when the release starts below)
        if (Array.isArray(request.targets)) planRollout(request.targets, request.strategy);
      } catch (error) {
        if (!(error instanceof InputError) && !(error instanceof SyntaxError)) throw error; // S3 trouble: let the event be retried
        const message = error instanceof SyntaxError ? `manifest is not JSON: ${error.message}` : error.message;
        logger.warn('release manifest refused', { reason: message });
        await records.putJson(resultRef, { manifest: key, eTag: etag, status: 'INVALID', error: message, at: new Date().toISOString() });
        outcome.invalid.push(key);
        continue;
      }
      try {
        checkManifestBuckets(bucket, request);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        logger.warn('release manifest refused', { reason: error.message });
        await records.putJson(resultRef, { manifest: key, eTag: etag, status: 'REFUSED', error: error.message, at: new Date().toISOString() });
        outcome.refused.push(key);
        continue;
      }
      try {
        // The same upload notified twice (S3 delivers at least once): its release exists, running or not.
        const { port, stateMachineArn } = await rt.releaseRunner();
        const seen = await port.describeExecution({ executionArn: executionArnOf(stateMachineArn, id) }).catch((error: unknown) => {
          if (error instanceof ReleaseNotFoundError) return undefined;
          throw error;
        });
        if (seen) throw new ReleaseExistsError(`Release ${id} exists already (${seen.status})`);
        const started = await startRelease(rt, request, { id, bucket, logger, onlyBucket: bucket });
        await records.putJson(resultRef, { manifest: key, eTag: etag, status: 'STARTED', ...started, at: new Date().toISOString() });
        outcome.started.push(id);
      } catch (error) {
        if (error instanceof InputError && !(error instanceof ReleaseExistsError)) {
          // refused when it started (targets the master does not match or know): a retry would refuse it again
          logger.warn('release manifest refused', { reason: error.message });
          await records.putJson(resultRef, { manifest: key, eTag: etag, status: 'INVALID', error: error.message, at: new Date().toISOString() });
          outcome.invalid.push(key);
          continue;
        }
        if (!(error instanceof ReleaseExistsError)) throw error;
        logger.info('release manifest seen again: its release exists already, nothing started', { reason: publicMessage(error) });
        outcome.duplicates.push(id);
      }
    }
    return outcome;
  };
}
