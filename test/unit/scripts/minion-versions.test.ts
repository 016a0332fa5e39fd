import { describe, expect, it } from '@jest/globals';
import type { HostResult } from '../../../lib/salt/normalise-result.js';
import type { SaltClient } from '../../../lib/salt/salt-client.js';
import { MinionVersions } from '../../../lib/scripts/minion-versions.js';

const result = (host: string, ret: unknown, ok = true): HostResult => ({
  host,
  ok,
  retcode: ok ? 0 : null,
  stdout: '',
  stderr: '',
  ret,
  ...(ok ? {} : { error: 'NO_RETURN', message: `${host} did not return` }),
});

/** A salt client whose `local` answers grains.item from a table, counting calls. */
function fakeSalt(grains: Record<string, unknown>) {
  const calls: Array<{ fun: string; tgt: readonly string[]; arg?: readonly unknown[] }> = [];
  const salt = {
    local: async (call: { fun: string; tgt: readonly string[]; arg?: readonly unknown[] }) => {
      calls.push(call);
      return call.tgt.map((h) => (h in grains ? result(h, grains[h]) : result(h, undefined, false)));
    },
  } as unknown as SaltClient;
  return { salt: () => salt, calls };
}

describe('MinionVersions', () => {
  it("learns each host's salt version and the user its minion runs as, in one job, then from its cache", async () => {
    const { salt, calls } = fakeSalt({ a: { saltversion: '3007.8', username: 'root' }, b: { saltversion: '3006.9', username: 'salt' } });
    const versions = new MinionVersions(salt);
    const first = await versions.of(['a', 'b', 'a']);
    expect(first).toEqual(
      new Map([
        ['a', '3007.8'],
        ['b', '3006.9'],
      ]),
    );
    expect(calls).toEqual([expect.objectContaining({ fun: 'grains.item', arg: ['saltversion', 'username'], tgt: ['a', 'b'] })]);
    expect(versions.userOf('a')).toBe('root');
    expect(versions.userOf('b')).toBe('salt');
    await versions.of(['a', 'b']);
    expect(calls).toHaveLength(1);
  });

  it('does not cache a host that did not answer or did not report a version, and knows no user for it', async () => {
    const { salt, calls } = fakeSalt({ odd: { username: 'root' } });
    const versions = new MinionVersions(salt);
    const out = await versions.of(['down', 'odd']);
    expect((out.get('down') as HostResult).error).toBe('NO_RETURN');
    expect(out.get('odd') as HostResult).toMatchObject({ ok: false, error: 'BAD_SHAPE' });
    expect(versions.userOf('down')).toBeUndefined();
    expect(versions.userOf('odd')).toBeUndefined();
    await versions.of(['down', 'odd']);
    expect(calls).toHaveLength(2);
  });
});
