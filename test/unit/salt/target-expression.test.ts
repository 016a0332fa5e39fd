import { describe, expect, it } from '@jest/globals';
import { InputError, SaltApiRequestError, SaltApiUnavailableError } from '../../../lib/errors.js';
import { resolveTargetExpression } from '../../../lib/salt/target-expression.js';

/** A salt client whose runner answers `reply` (or throws it), recording what it was asked. */
const saltAnswering = (reply: unknown) => {
  const calls: Array<[string, Record<string, unknown>]> = [];
  return {
    calls,
    runner: async (fun: string, kwarg: Record<string, unknown> = {}) => {
      calls.push([fun, kwarg]);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
};

describe('resolveTargetExpression', () => {
  it("asks the master's cache.grains runner with the expression as tgt and its type as tgt_type, and returns the matched ids sorted", async () => {
    const salt = saltAnswering({ 'web-2': { os: 'Debian' }, 'web-1': { os: 'Debian' } });
    expect(await resolveTargetExpression(salt, { type: 'compound', expression: 'G@role:web and web*' })).toEqual(['web-1', 'web-2']);
    expect(salt.calls).toEqual([['cache.grains', { tgt: 'G@role:web and web*', tgt_type: 'compound' }]]);
  });

  it.each([[{}], [[]], [null]])('refuses an expression matching nothing (%j), naming it', async (reply) => {
    await expect(resolveTargetExpression(saltAnswering(reply), { type: 'grain', expression: 'role:none' })).rejects.toThrow(
      new InputError(
        'Parameter targets validation failed: the grain expression "role:none" matches no minion known to the master (its cached grains); nothing was started',
      ),
    );
  });

  it("passes on the master's own refusal (a runner error comes back as its text)", async () => {
    const salt = saltAnswering('Exception occurred in runner cache.grains: Traceback...\nSaltInvocationError: bad nodegroup\n');
    await expect(resolveTargetExpression(salt, { type: 'nodegroup', expression: 'x' })).rejects.toThrow(
      /the master refused the nodegroup expression "x": SaltInvocationError: bad nodegroup$/,
    );
  });

  it('says the runner client is needed when salt-api refuses the call, and lets salt-api being away through as it is', async () => {
    await expect(resolveTargetExpression(saltAnswering(new SaltApiRequestError('401 Unauthorized', 401)), { type: 'glob', expression: '*' })).rejects.toThrow(
      /needs the runner client \(cache\.grains\) on salt-api: 401 Unauthorized/,
    );
    const away = new SaltApiUnavailableError('salt-api unreachable');
    await expect(resolveTargetExpression(saltAnswering(away), { type: 'glob', expression: '*' })).rejects.toBe(away);
  });
});
