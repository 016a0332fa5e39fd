import type { z } from 'zod';
import type { ItemOutcome, RunContext } from '../outcome.js';

export type { ItemOutcome, RunContext } from '../outcome.js';

/**
 * One WeCube operation. `run` receives every valid item of a request at once so that it can batch
 * work across hosts (one salt job for a host list) and returns one outcome per item, in order.
 */
export interface Operation<S extends z.ZodType = z.ZodType, O extends object = Record<string, unknown>> {
  plugin: string;
  action: string;
  summary: string;
  input: S;
  output: z.ZodType<O>;
  run(items: z.output<S>[], ctx: RunContext): Promise<ItemOutcome<O>[]>;
}

/** The canonical path of an operation. */
export const operationPath = (op: Pick<Operation, 'plugin' | 'action'>): string => `/saltstack/v1/${op.plugin}/${op.action}`;

/** Declares an operation with its types inferred from the schemas. */
export function defineOperation<S extends z.ZodType, O extends object>(op: Operation<S, O>): Operation<S, O> {
  return op;
}

/**
 * Turns a per-item function into a batch runner: at most `concurrency` items at a time (one at a time
 * with `sequential`, for items that may depend on each other: add then delete the same account),
 * outcomes in input order, a throw becomes that item's failure and never stops the others.
 */
export function eachItem<I, O>(
  fn: (item: I, ctx: RunContext, index: number) => Promise<O>,
  options: { sequential?: boolean } = {},
): (items: I[], ctx: RunContext) => Promise<ItemOutcome<O>[]> {
  return async (items, ctx) => {
    const outcomes = new Array<ItemOutcome<O>>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        try {
          const item = items[index]!;
          const guid = (item as { guid?: unknown } | null)?.guid;
          const logger = ctx.logger.child({ item: index + 1, ...(guid !== undefined && { guid }) });
          outcomes[index] = { ok: true, output: await fn(item, { ...ctx, logger }, index) };
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      }
    };
    const limit = options.sequential ? 1 : Math.max(1, ctx.concurrency);
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return outcomes;
  };
}

/**
 * Like eachItem, for per-item functions that return their own outcome, so that a failure can carry
 * partial output (what was already done on the host) next to its error.
 */
export function eachOutcome<I, O>(
  fn: (item: I, ctx: RunContext, index: number) => Promise<ItemOutcome<O>>,
  options: { sequential?: boolean } = {},
): (items: I[], ctx: RunContext) => Promise<ItemOutcome<O>[]> {
  const run = eachItem(fn, options);
  return async (items, ctx) => (await run(items, ctx)).map((o): ItemOutcome<O> => (o.ok ? o.output : { ok: false, error: o.error }));
}
