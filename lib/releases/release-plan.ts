import { z } from 'zod';
import { InputError } from '../errors.js';

/**
 * A number of hosts (`2`) or a share of the release's targets (`"10%"`), as validated. The validated form
 * is also a valid input: the stored request is validated again by the Prepare task.
 */
export type Amount = number | `${number}%`;

const PERCENT = /^(\d{1,3}(?:\.\d{1,2})?)\s*%$/;

interface Bounds {
  /** Counts from min to max. */
  min: number;
  max: number;
  /** Percentages from minPercent to 100. */
  minPercent: number;
}

/**
 * The amount a raw value says, or the reason it is none (which does not quote the value: a secret pasted
 * into the wrong field must not reach an error text); undefined for absent (`null`, `""`).
 */
function parseAmount(v: unknown, b: Bounds): Amount | { problem: string } | undefined {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const expected = `must be a host count from ${b.min} to ${b.max} or a percentage of the targets from ${b.minPercent}% to 100% (like "10%")`;
  if (typeof v === 'string' && v.includes('%')) {
    const m = PERCENT.exec(v.trim());
    const p = m ? Number(m[1]) : NaN;
    if (!(p >= b.minPercent && p <= 100)) return { problem: expected };
    return `${p}%`;
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < b.min || n > b.max) return { problem: expected };
  return n;
}

const amountField = (b: Bounds) =>
  z
    .union([z.number(), z.string()])
    .optional()
    .nullable()
    .transform((v, ctx): Amount | undefined => {
      const a = parseAmount(v, b);
      if (a !== null && typeof a === 'object') {
        ctx.addIssue({ code: 'custom', message: a.problem });
        return z.NEVER;
      }
      return a;
    });

const BATCH_SIZE: Bounds = { min: 0, max: 1000, minPercent: 1 };
const BATCH_END: Bounds = { min: 1, max: 100_000, minPercent: 1 };
const BUDGET: Bounds = { min: 0, max: 100_000, minPercent: 0 };
/** An explicit plan longer than this is a typo, not a rollout. */
const MAX_PLAN_STEPS = 100;

const isPercent = (a: Amount): a is `${number}%` => typeof a === 'string';
const percentOf = (a: `${number}%`) => Number(a.slice(0, -1));
const show = (a: Amount) => JSON.stringify(String(a));

/** The strategy as validated: `batches` or `batchSize` (never both), the failure budget and the health floor. */
export interface Strategy {
  /** Hosts per batch; 0 = all at once. Absent when `batches` is given. */
  batchSize?: Amount | undefined;
  /** Cumulative: element i is the share of the targets released by the end of batch i; the last is "100%". */
  batches?: Amount[] | undefined;
  maxFailures: Amount;
  minHealthy: Amount;
}

/**
 * `strategy` of a release request. `batches` are CUMULATIVE (CodeDeploy's and Spinnaker's reading of
 * `["1", "10%", "100%"]`: one host, then up to 10% of the targets, then all), strictly increasing where two
 * elements are comparable before the targets are known (both counts or both percentages), ending at "100%".
 * Unknown fields are refused by name: a misspelt `batchsize` would otherwise start an all-at-once release.
 */
export const strategyField = () =>
  z
    .object({
      batchSize: amountField(BATCH_SIZE).describe('hosts deployed at a time, a count or "N%" of the targets (rounded up, at least 1); 0 = all at once'),
      batches: z
        .array(amountField(BATCH_END))
        .optional()
        .nullable()
        .describe('an explicit plan, cumulative: ["1","10%","100%"] = one host, then up to 10% of the targets, then the rest'),
      maxFailures: amountField(BUDGET).describe('failed hosts tolerated before no further batch starts: a count or "N%" of the targets (rounded down)'),
      minHealthy: amountField(BUDGET).describe('no batch starts that would leave fewer healthy hosts: a count or "N%" of the targets (rounded up)'),
    })
    .strict()
    .optional()
    .nullable()
    .superRefine((s, ctx) => {
      const batches = s?.batches;
      if (!s || batches === undefined || batches === null) return;
      if (s.batchSize !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['batches'], message: 'batches and batchSize together: give one of them (batches lists every batch)' });
        return;
      }
      if (!batches.length) {
        ctx.addIssue({ code: 'custom', path: ['batches'], message: 'is empty: give at least one batch, the last "100%"' });
        return;
      }
      if (batches.length > MAX_PLAN_STEPS) {
        ctx.addIssue({ code: 'custom', path: ['batches'], message: `has ${batches.length} batches, at most ${MAX_PLAN_STEPS} (use batchSize)` });
        return;
      }
      batches.forEach((a, i) => {
        if (a === undefined) ctx.addIssue({ code: 'custom', path: ['batches', i], message: 'is empty' });
      });
      const given = batches as Amount[];
      for (let i = 1; i < given.length; i++) {
        const [prev, cur] = [given[i - 1]!, given[i]!];
        if (isPercent(prev) && !isPercent(cur)) {
          // "10%" then "50": 50 hosts is under 10% of a fleet of 1000 and over it on 100: no fixed meaning
          ctx.addIssue({
            code: 'custom',
            path: ['batches', i],
            message: `the count ${show(cur)} after the percentage ${show(prev)}: give counts first, then percentages`,
          });
          return;
        }
        if (isPercent(prev) !== isPercent(cur)) continue; // a percentage after a count: compared on the fleet (planRollout)
        const [p, c] = isPercent(prev) ? [percentOf(prev), percentOf(cur as `${number}%`)] : [prev as number, cur as number];
        if (c <= p) {
          ctx.addIssue({
            code: 'custom',
            path: ['batches', i],
            message: `${show(cur)} is not more than ${show(prev)} before it (each element is the cumulative share released by the end of its batch)`,
          });
          return;
        }
      }
      const last = given[given.length - 1]!;
      if (last !== '100%') {
        ctx.addIssue({ code: 'custom', path: ['batches', given.length - 1], message: `the plan must end at "100%" (every target), not ${show(last)}` });
      }
    })
    .transform((s): Strategy => {
      const out: Strategy = { maxFailures: s?.maxFailures ?? 0, minHealthy: s?.minHealthy ?? 0 };
      if (s?.batches) out.batches = s.batches as Amount[];
      else out.batchSize = s?.batchSize ?? 0;
      return out;
    });

/**
 * The most batches a release may have: the parent execution records about 12 events per batch (its
 * Distributed Map, Advance, the loop's Choice), so 1,000 batches stay far under AWS's 25,000 per execution.
 */
export const MAX_BATCHES = 1000;

/** What a release will do, computed from its targets and strategy before anything starts. */
export interface RolloutPlan {
  /** The hosts of each batch, in target order; every target exactly once. */
  batches: string[][];
  /** Failed hosts tolerated: no further batch starts once more have failed. */
  maxFailures: number;
  /** Hosts that must stay healthy (not failed, not in the batch being deployed): no batch starts that would leave fewer. */
  minHealthy: number;
}

// In hundredths of a percent, on integers: 10% of 10 is 1 exactly, never 1.0000000000000002 rounded up to 2.
const ceilShare = (percent: number, n: number) => Math.floor((Math.round(percent * 100) * n + 9_999) / 10_000);
const floorShare = (percent: number, n: number) => Math.floor((Math.round(percent * 100) * n) / 10_000);

const refuse = (field: string, problem: string) => new InputError(`Parameter strategy.${field} validation failed: ${problem}`);

/**
 * The batches, failure budget and health floor of a release over its targets. Percentages of the targets
 * round up for batches (at least 1 host) and minHealthy, down for maxFailures; the last batch takes the rest.
 * An element of `batches` that adds no host on this fleet (`"1"` then `"10%"` of 7 hosts; `"5"` then `"10%"`
 * of 20) is dropped; a count over the target count means all of them. Throws InputError naming the field: a
 * minHealthy over the target count, or one the batches alone would break (no failure needed).
 */
export function planRollout(targets: readonly string[], strategy: Strategy): RolloutPlan {
  const n = targets.length;
  const hostsOf = (a: Amount, round: 'up' | 'down') => (isPercent(a) ? (round === 'up' ? ceilShare : floorShare)(percentOf(a), n) : a);
  const ends: number[] = [];
  if (strategy.batches) {
    // Cumulative: an element already reached on this fleet ("1" then "10%" of 7 hosts) adds no batch.
    for (const a of strategy.batches) {
      const end = Math.min(n, Math.max(1, hostsOf(a, 'up')));
      if (end > (ends[ends.length - 1] ?? 0)) ends.push(end);
    }
  } else {
    const size = strategy.batchSize === undefined || strategy.batchSize === 0 ? n : Math.max(1, hostsOf(strategy.batchSize, 'up'));
    for (let end = size; end < n; end += size) ends.push(end);
    ends.push(n);
  }
  if (ends.length > MAX_BATCHES) {
    throw refuse(
      strategy.batches ? 'batches' : 'batchSize',
      `${ends.length} batches over ${n} targets, more than ${MAX_BATCHES} (each batch is a few events of the release's own execution history, which AWS caps at 25,000): use larger batches`,
    );
  }
  const batches = ends.map((end, i) => targets.slice(i ? ends[i - 1]! : 0, end));
  const maxFailures = hostsOf(strategy.maxFailures, 'down');
  const minHealthy = hostsOf(strategy.minHealthy, 'up');
  if (minHealthy > n) throw refuse('minHealthy', `${show(strategy.minHealthy)} is ${minHealthy} hosts, more than the ${n} targets`);
  const widest = Math.max(...batches.map((b) => b.length));
  if (n - widest < minHealthy) {
    const at = batches.findIndex((b) => b.length === widest);
    throw refuse(
      'minHealthy',
      `${show(strategy.minHealthy)} is ${minHealthy} of the ${n} targets, but batch ${at + 1} deploys ${widest} at once, leaving ${n - widest} healthy: use smaller batches or a lower minHealthy`,
    );
  }
  return { batches, maxFailures, minHealthy };
}

/** The plan as the release/start reply tells it: batch sizes and budgets in hosts. */
export const planSummary = (plan: RolloutPlan) => ({
  hosts: plan.batches.reduce((sum, b) => sum + b.length, 0),
  batches: plan.batches.map((b) => b.length),
  maxFailures: plan.maxFailures,
  minHealthy: plan.minHealthy,
});

/**
 * Whether the next batch may start: the failures are within the budget, and the hosts left healthy while it
 * is deployed (targets − failed − its hosts) stay at or above minHealthy. The reason when not.
 */
export function nextBatchRefusal(plan: Pick<RolloutPlan, 'maxFailures' | 'minHealthy'>, total: number, failed: number, nextBatch: number): string | undefined {
  if (failed > plan.maxFailures) return `${failed} host(s) failed, over maxFailures ${plan.maxFailures}`;
  const healthy = total - failed - nextBatch;
  if (healthy < plan.minHealthy) return `the next batch of ${nextBatch} would leave ${healthy} healthy host(s), under minHealthy ${plan.minHealthy}`;
  return undefined;
}
