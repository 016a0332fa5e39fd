import { z } from 'zod';

/**
 * Release events: what a release tells the world (EventBridge, a webhook) at the moments its tasks and API
 * calls already run. One shape for every type; `detail` holds only what release/status shows (hosts, counts,
 * states, steps, error texts with the release's secrets masked), never a request field.
 */

/** EventBridge `source` of every release event. */
export const EVENT_SOURCE = 'saltstack-plugin';

/** Every event type, with its EventBridge `detail-type`. */
export const RELEASE_EVENT_TYPES = {
  'release.started': 'Release Started',
  'release.batch-ended': 'Release Batch Ended',
  'release.host-failed': 'Release Host Failed',
  /** Not published yet: approval gates do not exist; its number is reserved in every batch. */
  'release.approval-waiting': 'Release Approval Waiting',
  'release.stopped': 'Release Stopped',
  'release.ended': 'Release Ended',
} as const;
export type ReleaseEventType = keyof typeof RELEASE_EVENT_TYPES;

const count = z.number().int().min(0);
const tally = z.object({ succeeded: count, rolledBack: count, failed: count });

/** The `detail` of each event type. */
export const releaseEventDetails = {
  'release.started': z.object({
    name: z.string().optional(),
    mode: z.enum(['new', 'update']),
    hosts: count,
    batches: z.array(count).describe('hosts per batch, in order'),
    maxFailures: count,
    minHealthy: count,
    source: z.enum(['api', 'manifest']),
  }),
  'release.batch-ended': z.object({
    batch: z.number().int().min(1),
    of: z.number().int().min(1),
    hosts: count,
    /** This batch's outcomes. */
    outcomes: tally.extend({ skipped: count }),
    /** Every batch so far. */
    total: tally,
    next: z.enum(['next-batch', 'halted', 'none']).describe('what the release does now'),
    haltReason: z.string().optional(),
  }),
  'release.host-failed': z.object({
    host: z.string(),
    batch: z.number().int().min(1),
    step: z.string().optional(),
    state: z.enum(['rolled-back', 'failed']).describe('failed: left changed (its rollback failed too)'),
    error: z.string(),
    rollback: z.string().optional(),
  }),
  'release.approval-waiting': z.object({ batch: z.number().int().min(1), of: z.number().int().min(1) }),
  'release.stopped': z.object({ requestedAt: z.string() }),
  'release.ended': z.object({
    result: z.enum(['SUCCEEDED', 'ROLLED_BACK', 'LEFT_CHANGED', 'PREPARE_FAILED', 'STOPPED']),
    hosts: count,
    succeeded: count,
    rolledBack: count,
    failed: count,
    skipped: count,
    summary: z.string(),
  }),
} as const satisfies Record<ReleaseEventType, z.ZodType>;

export type ReleaseEventDetail<T extends ReleaseEventType> = z.infer<(typeof releaseEventDetails)[T]>;

const envelope = <T extends ReleaseEventType>(type: T) =>
  z
    .object({
      id: z.string().describe('`<release>:<sequence>`: the same event published twice (a task retried) has the same id'),
      type: z.literal(type),
      release: z.string(),
      sequence: z.number().int().min(1).describe('orders the events of one release (with gaps)'),
      time: z.string(),
      detail: releaseEventDetails[type],
    })
    .strict();

/** Every release event, as published (the webhook body; EventBridge's `detail`). */
export const releaseEventSchema = z.discriminatedUnion('type', [
  envelope('release.started'),
  envelope('release.batch-ended'),
  envelope('release.host-failed'),
  envelope('release.approval-waiting'),
  envelope('release.stopped'),
  envelope('release.ended'),
]);
export type ReleaseEvent = z.infer<typeof releaseEventSchema>;

/**
 * Sequence numbers, from the plan (the batch sizes) and nothing else: the tasks of one release run in
 * separate Lambdas at once, and the release records (S3) have no atomic counter. Each batch owns a block
 * `[stopped, host 1 failed, ..., host n failed, batch ended, approval waiting]`; `release.started` is 1,
 * `release.ended` the last. Numbers have gaps (hosts that did not fail), but any two events compare as
 * they happened, and a retried task publishes the same number again.
 */
export const sequence = {
  started: (): number => 1,
  /** A stop asked for once `batchesDone` batches had ended: before anything of the next batch. */
  stopped: (sizes: readonly number[], batchesDone: number): number => blockStart(sizes, Math.min(batchesDone, sizes.length) + 1),
  /** The host at `index` (0-based) of batch `batch` (1-based). */
  hostFailed: (sizes: readonly number[], batch: number, index: number): number => blockStart(sizes, batch) + 1 + index,
  batchEnded: (sizes: readonly number[], batch: number): number => blockStart(sizes, batch) + 1 + sizes[batch - 1]!,
  approvalWaiting: (sizes: readonly number[], batch: number): number => blockStart(sizes, batch) + 2 + sizes[batch - 1]!,
  /** After every block, and after a stop asked for once every batch had ended. `[]`: refused before a plan. */
  ended: (sizes: readonly number[]): number => blockStart(sizes, sizes.length + 1) + 1,
};

/** The first number of batch `batch`'s block (1-based); batch n+1 is where the end goes. */
function blockStart(sizes: readonly number[], batch: number): number {
  let start = 2;
  for (let b = 0; b < batch - 1; b++) start += sizes[b]! + 3;
  return start;
}

/** An event of a release, its id made from release and number (what receivers de-duplicate on). */
export function releaseEvent<T extends ReleaseEventType>(
  type: T,
  release: string,
  seq: number,
  detail: ReleaseEventDetail<T>,
  time = new Date(),
): ReleaseEvent {
  return { id: `${release}:${seq}`, type, release, sequence: seq, time: time.toISOString(), detail } as ReleaseEvent;
}

/**
 * The port: one destination of release events (EventBridge, a webhook). `publish` throws
 * EventPublishError when the destination did not take the event; publishReleaseEvent isolates that.
 */
export interface ReleaseEvents {
  /** Names the destination in logs and records, without a secret (`eventbridge:<bus>`, `webhook:<origin>`). */
  readonly target: string;
  publish(event: ReleaseEvent, signal?: AbortSignal): Promise<void>;
}
