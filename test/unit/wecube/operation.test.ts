import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { JobFailedError } from '../../../lib/errors.js';
import { defineOperation, eachItem, operationPath, type RunContext } from '../../../lib/wecube/operation.js';
import { captureLogger, deferred, flush, type Deferred } from '../helpers.js';
import { createLogger } from '../../../lib/log/logger.js';

const ctx = (concurrency: number): RunContext => ({
  logger: captureLogger().logger,
  signal: new AbortController().signal,
  concurrency,
});

/** A per-item function whose items finish only when the test says so, counting how many run at once. */
function gatedWork(count: number) {
  const gates: Deferred<void>[] = Array.from({ length: count }, () => deferred());
  const started: number[] = [];
  const finished: number[] = [];
  let active = 0;
  let maxActive = 0;
  const fn = async (item: number) => {
    started.push(item);
    active++;
    maxActive = Math.max(maxActive, active);
    await gates[item]!.promise;
    active--;
    finished.push(item);
    return { value: item * 10 };
  };
  return { fn, gates, started, finished, stats: () => ({ active, maxActive }) };
}

describe('eachItem', () => {
  it.each([2, 3, 5])('never runs more than %i items at once, and keeps input order when later items finish first', async (concurrency) => {
    const items = [0, 1, 2, 3, 4, 5, 6];
    const work = gatedWork(items.length);
    const run = eachItem(work.fn)(items, ctx(concurrency));
    await flush();
    expect(work.started).toHaveLength(concurrency);
    // Always release the most recently started item first, so completion order is the reverse of starts.
    while (work.finished.length < items.length) {
      const pending = work.started.filter((i) => !work.finished.includes(i));
      work.gates[pending[pending.length - 1]!]!.resolve();
      await flush();
      expect(work.stats().active).toBeLessThanOrEqual(concurrency);
    }
    const outcomes = await run;
    expect(work.stats().maxActive).toBe(concurrency);
    expect(work.finished).not.toEqual(items);
    expect(outcomes).toEqual(items.map((i) => ({ ok: true, output: { value: i * 10 } })));
  });

  it('returns outcomes in input order when the items finish in reverse order all at once', async () => {
    const work = gatedWork(4);
    const run = eachItem(work.fn)([0, 1, 2, 3], ctx(10));
    await flush();
    expect(work.started).toEqual([0, 1, 2, 3]);
    for (const i of [3, 2, 1, 0]) {
      work.gates[i]!.resolve();
      await flush();
    }
    expect(work.finished).toEqual([3, 2, 1, 0]);
    expect((await run).map((o) => (o.ok ? o.output.value : -1))).toEqual([0, 10, 20, 30]);
  });

  it('runs items one at a time when the concurrency is 0 or negative', async () => {
    const work = gatedWork(3);
    const run = eachItem(work.fn)([0, 1, 2], ctx(0));
    await flush();
    expect(work.started).toEqual([0]);
    work.gates.forEach((g) => g.resolve());
    await run;
    expect(work.stats().maxActive).toBe(1);
  });

  it("turns a thrown error into that item's failure and still runs every other item", async () => {
    const boom = new JobFailedError('exit 3 on 10.0.0.2', '10.0.0.2');
    const seen: number[] = [];
    const outcomes = await eachItem(async (item: number) => {
      seen.push(item);
      if (item === 1) throw boom;
      if (item === 3) throw new TypeError('raw bug');
      return item;
    })([0, 1, 2, 3, 4], ctx(2));
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(outcomes[0]).toEqual({ ok: true, output: 0 });
    expect(outcomes[1]).toEqual({ ok: false, error: boom });
    expect(outcomes[2]).toEqual({ ok: true, output: 2 });
    expect(outcomes[3]!.ok).toBe(false);
    expect(outcomes[4]).toEqual({ ok: true, output: 4 });
  });

  it('passes each item its index, the run context and a logger keyed by item and guid', async () => {
    const lines: string[] = [];
    const context = { ...ctx(3), logger: createLogger('info', (line) => lines.push(line)) };
    const calls: Array<[string, number, boolean, number]> = [];
    await eachItem(async (item: { guid: string }, c, index) => {
      calls.push([item.guid, index, c.signal === context.signal, c.concurrency]);
      c.logger.info('working');
      return null;
    })([{ guid: 'a' }, { guid: 'b' }, { guid: 'c' }], context);
    expect(calls.sort()).toEqual([
      ['a', 0, true, 3],
      ['b', 1, true, 3],
      ['c', 2, true, 3],
    ]);
    expect(
      lines
        .map((l) => JSON.parse(l) as { item: number; guid: string })
        .map((l) => [l.item, l.guid])
        .sort(),
    ).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('returns an empty list for no items without calling the function', async () => {
    let called = false;
    const outcomes = await eachItem(async () => {
      called = true;
    })([], ctx(5));
    expect(outcomes).toEqual([]);
    expect(called).toBe(false);
  });
});

describe('operationPath', () => {
  it('is /saltstack/v1/<plugin>/<action>', () => {
    const op = defineOperation({
      plugin: 'host-info',
      action: 'query',
      summary: 's',
      input: z.object({}),
      output: z.object({}),
      run: async () => [],
    });
    expect(operationPath(op)).toBe('/saltstack/v1/host-info/query');
  });
});

describe('eachItem with sequential', () => {
  it('runs one item at a time in input order whatever the concurrency', async () => {
    const order: string[] = [];
    let running = 0;
    let most = 0;
    await eachItem(
      async (item: string) => {
        running++;
        most = Math.max(most, running);
        order.push(`start ${item}`);
        await new Promise((r) => setTimeout(r, item === 'a' ? 20 : 1));
        order.push(`end ${item}`);
        running--;
      },
      { sequential: true },
    )(['a', 'b', 'c'], { ...ctx(5) });
    expect(most).toBe(1);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
