/**
 * Salt target expressions (a grain, a pillar value, a nodegroup, a compound expression, a CIDR, a glob or a
 * list), resolved to minion ids by the master's own matching: the `cache.grains` runner matches the target
 * with the master's CkMinions against its minion data cache and returns the matching minions' cached grains.
 * No job is published, so no minion is asked anything: a minion whose grains the master has not cached yet
 * (accepted but never connected) does not match, as it would not in `salt -C` with a cold cache.
 */
import { z } from 'zod';
import { InputError, SaltApiRequestError } from '../errors.js';
import type { SaltClient } from './salt-client.js';

export const TARGET_TYPES = ['glob', 'grain', 'pillar', 'nodegroup', 'compound', 'ipcidr', 'list'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/** `{"type": "grain", "expression": "role:web"}`: strict, every other key refused by name. */
export const targetExpressionField = () =>
  z
    .object({
      type: z.enum(TARGET_TYPES).describe('how salt matches the expression (tgt_type)'),
      expression: z.string().trim().min(1).max(4096).describe("salt's target (tgt): role:web, G@os:Debian and web*, 10.0.0.0/24, ..."),
    })
    .strict();
export type TargetExpression = z.output<ReturnType<typeof targetExpressionField>>;

/**
 * The minion ids the master matches for an expression, sorted. Throws InputError when it matches none
 * (nothing would be released) or when salt-api refuses the runner call (which the expression needs).
 */
export async function resolveTargetExpression(salt: Pick<SaltClient, 'runner'>, target: TargetExpression, signal?: AbortSignal): Promise<string[]> {
  const shown = `${target.type} expression ${JSON.stringify(target.expression)}`;
  let matched: unknown;
  try {
    matched = await salt.runner('cache.grains', { tgt: target.expression, tgt_type: target.type }, signal);
  } catch (error) {
    if (error instanceof SaltApiRequestError) {
      throw new InputError(`Parameter targets validation failed: the ${shown} needs the runner client (cache.grains) on salt-api: ${error.message}`);
    }
    throw error;
  }
  if (typeof matched === 'string') {
    // a runner that failed on the master answers with its error text
    throw new InputError(`Parameter targets validation failed: the master refused the ${shown}: ${matched.split('\n').filter(Boolean).pop() ?? matched}`);
  }
  const ids = matched && typeof matched === 'object' && !Array.isArray(matched) ? Object.keys(matched).sort() : [];
  if (!ids.length) {
    throw new InputError(`Parameter targets validation failed: the ${shown} matches no minion known to the master (its cached grains); nothing was started`);
  }
  return ids;
}
