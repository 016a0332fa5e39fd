import type { z } from 'zod';
import { PluginError, publicMessage } from '../errors.js';
import type { ItemOutput } from './envelope.js';
import type { ItemOutcome, Operation, RunContext } from './operation.js';
import { validateItem } from '../input/validate-item.js';

type Slot = { valid: true; item: unknown } | { valid: false; error: unknown };

const echo = (raw: unknown, key: 'guid' | 'callbackParameter'): string | undefined => {
  const v = (raw as Record<string, unknown> | null)?.[key];
  return v === undefined || v === null || v === '' ? undefined : String(v);
};

/**
 * Validates every item (a bad item fails alone with its InputError, nothing runs for it), runs the valid
 * ones through the operation in one batch, and returns one outcome per raw item, in order, each marked
 * valid or not. A failure of the whole batch (salt-api down, S3 unreachable) is every valid item's failure.
 */
async function settleItems<S extends z.ZodType, O extends object>(
  op: Operation<S, O>,
  rawItems: readonly unknown[],
  ctx: RunContext,
): Promise<Array<{ valid: boolean; outcome: ItemOutcome<O> }>> {
  const slots: Slot[] = rawItems.map((raw) => {
    try {
      return { valid: true, item: validateItem(op.input, raw) };
    } catch (error) {
      return { valid: false, error };
    }
  });
  const validItems = slots.flatMap((s) => (s.valid ? [s.item as z.output<S>] : []));
  let outcomes: ItemOutcome<O>[] = [];
  if (validItems.length) {
    try {
      outcomes = await op.run(validItems, ctx);
    } catch (error) {
      // each output still carries its guid and the reason, and the envelope stays a normal response
      ctx.logger.error('operation failed for all items', { error });
      outcomes = validItems.map(() => ({ ok: false, error }));
    }
  }
  if (outcomes.length !== validItems.length) {
    throw new Error(`${op.plugin}/${op.action} returned ${outcomes.length} outcomes for ${validItems.length} items`);
  }
  let next = 0;
  return slots.map((slot) => (slot.valid ? { valid: true, outcome: outcomes[next++]! } : { valid: false, outcome: { ok: false, error: slot.error } }));
}

/** Runs raw items through an operation as a request would (validation per item, one batch): one outcome per item. */
export async function runItems<S extends z.ZodType, O extends object>(
  op: Operation<S, O>,
  rawItems: readonly unknown[],
  ctx: RunContext,
): Promise<ItemOutcome<O>[]> {
  return (await settleItems(op, rawItems, ctx)).map((s) => s.outcome);
}

/** Runs a request's items (settleItems) and shapes one WeCube output per input, in input order. */
export async function runOperation<S extends z.ZodType, O extends object>(op: Operation<S, O>, rawItems: unknown[], ctx: RunContext): Promise<ItemOutput[]> {
  const settled = await settleItems(op, rawItems, ctx);
  return settled.map(({ valid, outcome }, index) => {
    const raw = rawItems[index];
    const guid = echo(raw, 'guid');
    const callbackParameter = echo(raw, 'callbackParameter');
    const base = { ...(guid !== undefined && { guid }), ...(callbackParameter !== undefined && { callbackParameter }) };
    if (outcome.ok) return { ...base, ...outcome.output, errorCode: '0', errorMessage: '' };
    if (!valid) {
      ctx.logger.info('item rejected', { item: index + 1, guid, error: outcome.error });
    } else {
      ctx.logger.warn('item failed', { item: index + 1, guid, error: outcome.error });
    }
    const errorType = outcome.error instanceof PluginError ? outcome.error.code : 'E_INTERNAL';
    const errorCode = outcome.error instanceof PluginError ? outcome.error.errorCode : '1';
    return { ...base, ...outcome.output, errorCode, errorMessage: publicMessage(outcome.error), errorType };
  });
}
