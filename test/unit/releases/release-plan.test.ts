import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { nextBatchRefusal, planRollout, planSummary, strategyField, type Strategy } from '../../../lib/releases/release-plan.js';
import { releaseInput } from '../../../lib/releases/release-request.js';
import { validateItem } from '../../../lib/input/validate-item.js';

const hostsOf = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const base = { endpoint: 's3://bucket/app.tgz', destinationPath: '/data/app', userName: 'app', startScript: 'bin/start.sh', targets: 'h1,h2' };

/** The strategy as release/start validates it. */
const strategy = (raw: unknown): Strategy => validateItem(releaseInput, { ...base, strategy: raw }).strategy;

/** The InputError message of validating, or of planning over `n` targets. */
function refusal(raw: unknown, n = 10): string {
  try {
    planRollout(hostsOf(n), strategy(raw));
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

/** Batch sizes, failure budget and health floor of a strategy over n hosts. */
const summary = (raw: unknown, n: number) => {
  const { hosts: _n, ...rest } = planSummary(planRollout(hostsOf(n), strategy(raw)));
  return rest;
};

describe('strategy: validated forms', () => {
  it.each([
    [undefined, { batchSize: 0, maxFailures: 0, minHealthy: 0 }],
    [null, { batchSize: 0, maxFailures: 0, minHealthy: 0 }],
    [{}, { batchSize: 0, maxFailures: 0, minHealthy: 0 }],
    [
      { batchSize: '', maxFailures: null },
      { batchSize: 0, maxFailures: 0, minHealthy: 0 },
    ],
    [
      { batchSize: '3', maxFailures: 2 },
      { batchSize: 3, maxFailures: 2, minHealthy: 0 },
    ],
    [
      { batchSize: '10%', maxFailures: ' 5 %', minHealthy: '50%' },
      { batchSize: '10%', maxFailures: '5%', minHealthy: '50%' },
    ],
    [{ batchSize: '12.5%' }, { batchSize: '12.5%', maxFailures: 0, minHealthy: 0 }],
    [{ batches: ['1', '10%', '100%'] }, { batches: [1, '10%', '100%'], maxFailures: 0, minHealthy: 0 }],
    [
      { batches: [2, '5', '100%'], minHealthy: 1 },
      { batches: [2, 5, '100%'], maxFailures: 0, minHealthy: 1 },
    ],
    [{ batches: ['100%'] }, { batches: ['100%'], maxFailures: 0, minHealthy: 0 }],
  ])('%j validates to %j', (raw, expected) => {
    expect(strategy(raw)).toEqual(expected);
  });

  it('gives a form that validates to itself (the stored request is validated again by Prepare)', () => {
    for (const raw of [{ batches: ['1', '10%', '100%'], maxFailures: '10%', minHealthy: 3 }, { batchSize: '25%' }, {}]) {
      const once = strategy(raw);
      expect(strategy(JSON.parse(JSON.stringify(once)))).toEqual(once);
    }
  });

  it('is the strategy field of release requests', () => {
    expect(strategyField().safeParse({ batchSize: 2 }).success).toBe(true);
  });
});

describe('strategy: refusals, naming the field and element, before anything starts', () => {
  it.each([
    [
      { batchSize: -1 },
      'Parameter strategy.batchSize validation failed: must be a host count from 0 to 1000 or a percentage of the targets from 1% to 100% (like "10%")',
    ],
    [{ batchSize: 1001 }, 'Parameter strategy.batchSize validation failed: must be a host count'],
    [{ batchSize: 1.5 }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ batchSize: 'x' }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ batchSize: '1e9' }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ batchSize: '0%' }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ batchSize: '101%' }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ batchSize: '-5%' }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ batchSize: '10%%' }, 'Parameter strategy.batchSize validation failed: must be'],
    [{ maxFailures: -1 }, 'Parameter strategy.maxFailures validation failed: must be a host count from 0 to 100000'],
    [{ maxFailures: '100.5%' }, 'Parameter strategy.maxFailures validation failed: must be'],
    [{ minHealthy: 0.5 }, 'Parameter strategy.minHealthy validation failed: must be'],
    [{ batches: [] }, 'Parameter strategy.batches validation failed: is empty: give at least one batch, the last "100%"'],
    [{ batches: '1,100%' }, 'Parameter strategy.batches validation failed: wrong type (string)'],
    [{ batches: ['1', '10%', '100%'], batchSize: 2 }, 'Parameter strategy.batches validation failed: batches and batchSize together'],
    [{ batches: ['1', '0', '100%'] }, 'Parameter strategy.batches.1 validation failed: must be a host count from 1 to 100000'],
    [{ batches: ['1', '150%'] }, 'Parameter strategy.batches.1 validation failed: must be'],
    [{ batches: ['1', 'ten', '100%'] }, 'Parameter strategy.batches.1 validation failed: must be'],
    [{ batches: ['1', null, '100%'] }, 'Parameter strategy.batches.1 validation failed: is empty'],
    [
      { batches: ['50%', '10%', '100%'] },
      'Parameter strategy.batches.1 validation failed: "10%" is not more than "50%" before it (each element is the cumulative share',
    ],
    [{ batches: ['5', '5', '100%'] }, 'Parameter strategy.batches.1 validation failed: "5" is not more than "5" before it'],
    [{ batches: ['1', '100%', '100%'] }, 'Parameter strategy.batches.2 validation failed: "100%" is not more than "100%" before it'],
    [
      { batches: ['10%', '50', '100%'] },
      'Parameter strategy.batches.1 validation failed: the count "50" after the percentage "10%": give counts first, then percentages',
    ],
    [{ batches: ['1', '10%'] }, 'Parameter strategy.batches.1 validation failed: the plan must end at "100%" (every target), not "10%"'],
    [{ batches: ['1', '5'] }, 'Parameter strategy.batches.1 validation failed: the plan must end at "100%" (every target), not "5"'],
    [{ batches: Array.from({ length: 101 }, (_, i) => `${i + 1}`) }, 'Parameter strategy.batches validation failed: has 101 batches, at most 100'],
    [{ batchsize: 1 }, 'Parameter strategy.batchsize validation failed: unknown field, nothing was done (known: batchSize, batches, maxFailures, minHealthy)'],
    [{ canary: 1, batches: ['100%'] }, 'Parameter strategy.canary validation failed: unknown field'],
  ])('refuses %j', (raw, message) => {
    expect(refusal(raw)).toContain(message);
  });

  it.each([
    [{ minHealthy: 11 }, 10, 'Parameter strategy.minHealthy validation failed: "11" is 11 hosts, more than the 10 targets'],
    [
      { minHealthy: '100%' },
      10,
      'Parameter strategy.minHealthy validation failed: "100%" is 10 of the 10 targets, but batch 1 deploys 10 at once, leaving 0 healthy',
    ],
    [{ batchSize: 5, minHealthy: 6 }, 10, 'batch 1 deploys 5 at once, leaving 5 healthy: use smaller batches or a lower minHealthy'],
    [
      { batches: ['1', '10%', '100%'], minHealthy: '50%' },
      10,
      'Parameter strategy.minHealthy validation failed: "50%" is 5 of the 10 targets, but batch 2 deploys 9 at once, leaving 1 healthy',
    ],
    [{ batchSize: '50%', minHealthy: '50.01%' }, 2, '"50.01%" is 2 of the 2 targets, but batch 1 deploys 1 at once, leaving 1 healthy'],
  ])('refuses %j over %i targets (the batches alone would break minHealthy)', (raw, n, message) => {
    expect(refusal(raw, n)).toContain(message);
  });
});

describe('planRollout: batchSize as a count or a percentage (rounded up, at least 1; the last batch takes the rest)', () => {
  it.each([
    [{}, 1, [1]],
    [{}, 999, [999]],
    [{ batchSize: 2 }, 1, [1]],
    [{ batchSize: 2 }, 7, [2, 2, 2, 1]],
    [{ batchSize: 1000 }, 3, [3]],
    [{ batchSize: '10%' }, 1, [1]],
    [{ batchSize: '10%' }, 2, [1, 1]],
    [{ batchSize: '10%' }, 7, [1, 1, 1, 1, 1, 1, 1]],
    [{ batchSize: '10%' }, 10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    [{ batchSize: '30%' }, 10, [3, 3, 3, 1]],
    [{ batchSize: '50%' }, 3, [2, 1]],
    [{ batchSize: '50%' }, 7, [4, 3]],
    [{ batchSize: '34%' }, 3, [2, 1]],
    [{ batchSize: '33%' }, 3, [1, 1, 1]],
    [{ batchSize: '100%' }, 7, [7]],
    [{ batchSize: '25%' }, 999, [250, 250, 250, 249]],
    [{ batchSize: '12.5%' }, 8, [1, 1, 1, 1, 1, 1, 1, 1]],
    [{ batchSize: '12.5%' }, 10, [2, 2, 2, 2, 2]],
  ])('%j over %i hosts: batches of %j', (raw, n, sizes) => {
    expect(summary(raw, n).batches).toEqual(sizes);
  });
});

describe('planRollout: an explicit plan (cumulative shares: rounded up, at least 1, capped at the targets)', () => {
  const canary = { batches: ['1', '10%', '100%'] };
  it.each([
    [canary, 1, [1]],
    [canary, 2, [1, 1]],
    [canary, 3, [1, 2]],
    [canary, 7, [1, 6]],
    [canary, 10, [1, 9]],
    [canary, 999, [1, 99, 899]],
    [{ batches: ['1', '50%', '100%'] }, 2, [1, 1]],
    [{ batches: ['1', '50%', '100%'] }, 3, [1, 1, 1]],
    [{ batches: ['1', '50%', '100%'] }, 7, [1, 3, 3]],
    [{ batches: ['1', '50%', '100%'] }, 10, [1, 4, 5]],
    [{ batches: ['1', '50%', '100%'] }, 999, [1, 499, 499]],
    [{ batches: ['2', '5', '100%'] }, 3, [2, 1]],
    [{ batches: ['5', '10%', '100%'] }, 20, [5, 15]],
    [{ batches: ['10%', '50%', '100%'] }, 7, [1, 3, 3]],
    [{ batches: ['33%', '66%', '100%'] }, 3, [1, 1, 1]],
    [{ batches: ['100%'] }, 999, [999]],
  ])('%j over %i hosts: batches of %j', (raw, n, sizes) => {
    expect(summary(raw, n).batches).toEqual(sizes);
  });

  it('keeps every target exactly once, in order', () => {
    for (const n of [1, 2, 3, 7, 10, 999]) {
      for (const raw of [canary, { batchSize: '30%' }, { batchSize: 4 }, { batches: ['2', '5', '25%', '100%'] }]) {
        const targets = hostsOf(n);
        expect(planRollout(targets, strategy(raw)).batches.flat()).toEqual(targets);
      }
    }
  });

  it('does not modify its targets', () => {
    const targets = ['x', 'y', 'z'];
    planRollout(targets, strategy({ batchSize: 1 })).batches[0]!.push('w');
    expect(targets).toEqual(['x', 'y', 'z']);
  });
});

describe('planRollout: maxFailures rounds down, minHealthy rounds up', () => {
  it.each([
    [{ maxFailures: '10%' }, 1, 0],
    [{ maxFailures: '10%' }, 2, 0],
    [{ maxFailures: '10%' }, 7, 0],
    [{ maxFailures: '10%' }, 10, 1],
    [{ maxFailures: '10%' }, 999, 99],
    [{ maxFailures: '50%' }, 3, 1],
    [{ maxFailures: '50%' }, 7, 3],
    [{ maxFailures: '100%' }, 7, 7],
    [{ maxFailures: 5 }, 2, 5],
  ])('%j over %i hosts: %i failures tolerated', (raw, n, budget) => {
    expect(summary({ batchSize: 1, ...raw }, n).maxFailures).toBe(budget);
  });

  it.each([
    [{ minHealthy: '10%' }, 1, 0, 1],
    [{ minHealthy: '10%' }, 2, 1, 1],
    [{ minHealthy: '10%' }, 3, 1, 1],
    [{ minHealthy: '10%' }, 7, 1, 1],
    [{ minHealthy: '10%' }, 10, 1, 1],
    [{ minHealthy: '10%' }, 999, 100, 1],
    [{ minHealthy: '50%' }, 3, 2, 1],
    [{ minHealthy: '50%' }, 7, 4, 1],
    [{ minHealthy: '90%' }, 10, 9, 1],
    [{ minHealthy: 2 }, 3, 2, 1],
  ])('%j over %i hosts: %i must stay healthy (batchSize %i)', (raw, n, floor, batchSize) => {
    if (floor === 0) {
      // 10% of 1 host rounds up to 1, and its only batch takes it: refused, not silently 0
      expect(refusal({ batchSize, ...raw }, n)).toContain('leaving 0 healthy');
      return;
    }
    expect(summary({ batchSize, ...raw }, n).minHealthy).toBe(floor);
  });

  it('tells the plan as release/start replies it', () => {
    expect(planSummary(planRollout(hostsOf(999), strategy({ batches: ['1', '10%', '100%'], maxFailures: '1%', minHealthy: '10%' })))).toEqual({
      hosts: 999,
      batches: [1, 99, 899],
      maxFailures: 9,
      minHealthy: 100,
    });
  });
});

describe('nextBatchRefusal', () => {
  const plan = { maxFailures: 1, minHealthy: 7 };
  it.each([
    [10, 0, 3, undefined],
    [10, 1, 2, undefined],
    [10, 1, 3, 'the next batch of 3 would leave 6 healthy host(s), under minHealthy 7'],
    [10, 2, 1, '2 host(s) failed, over maxFailures 1'],
  ])('over %i targets with %i failed, a next batch of %i: %j', (total, failed, next, reason) => {
    expect(nextBatchRefusal(plan, total, failed, next)).toBe(reason);
  });
});
