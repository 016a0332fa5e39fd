import { describe, expect, it } from '@jest/globals';
import { acceptMinionKey, type WheelCall } from '../../../lib/agent/accept-minion-key.js';
import { AgentInstallError, AgentKeyError } from '../../../lib/errors.js';

const ID = '10.0.0.7';
const HOST_FINGER = 'aa:bb';
const OTHER = 'cc:dd';

/** A master's key store driven by wheel calls; `arrivals` is what the minion presents on later polls. */
function fakeMaster(initial: { state: string; finger: string } | undefined, arrivals: Array<{ state: string; finger: string } | undefined> = []) {
  let key = initial;
  const calls: string[] = [];
  const wheel: WheelCall = async (fun) => {
    calls.push(fun);
    switch (fun) {
      case 'key.list_all': {
        if (!key && arrivals.length) key = arrivals.shift();
        const all: Record<string, string[]> = { minions: ['other'], minions_pre: [], minions_rejected: [], minions_denied: [], local: [] };
        if (key) all[key.state]!.push(ID);
        return all;
      }
      case 'key.finger':
        return key ? { [key.state]: { [ID]: key.finger } } : {};
      case 'key.accept':
        if (key?.state === 'minions_pre') key = { state: 'minions', finger: key.finger };
        return { minions: [ID] };
      case 'key.delete':
        key = undefined;
        return {};
      default:
        throw new Error(`unexpected ${fun}`);
    }
  };
  return { wheel, calls, key: () => key };
}

const accept = (master: ReturnType<typeof fakeMaster>, waitMs = 1000, onReplace?: (old: string | undefined) => void) =>
  acceptMinionKey({
    wheel: master.wheel,
    id: ID,
    finger: HOST_FINGER,
    waitMs,
    signal: new AbortController().signal,
    pollMs: 5,
    ...(onReplace && { onReplace }),
  });

describe('acceptMinionKey', () => {
  it('accepts a pending key with the host’s fingerprint once it arrives', async () => {
    const master = fakeMaster(undefined, [undefined, { state: 'minions_pre', finger: HOST_FINGER }]);
    await expect(accept(master)).resolves.toBe('accepted');
    expect(master.key()).toEqual({ state: 'minions', finger: HOST_FINGER });
  });

  it('leaves an accepted key with the host’s fingerprint as it is', async () => {
    const master = fakeMaster({ state: 'minions', finger: HOST_FINGER });
    await expect(accept(master)).resolves.toBe('known');
    expect(master.calls).not.toContain('key.accept');
  });

  it('refuses a pending key with another fingerprint and accepts nothing', async () => {
    const master = fakeMaster({ state: 'minions_pre', finger: OTHER });
    await expect(accept(master)).rejects.toThrow(AgentKeyError);
    await expect(accept(master)).rejects.toThrow(`The pending key for ${ID} on the master has fingerprint ${OTHER}, not ${HOST_FINGER}`);
    expect(master.calls).not.toContain('key.accept');
    expect(master.key()).toEqual({ state: 'minions_pre', finger: OTHER });
  });

  it("replaces a stale accepted key (a re-imaged host) with the host's new key, without any flag, saying so", async () => {
    const master = fakeMaster({ state: 'minions', finger: OTHER }, [{ state: 'minions_pre', finger: HOST_FINGER }]);
    const olds: Array<string | undefined> = [];
    await expect(accept(master, 1000, (old) => olds.push(old))).resolves.toBe('replaced');
    expect(olds).toEqual([OTHER]);
    expect(master.calls).toContain('key.delete');
    expect(master.key()).toEqual({ state: 'minions', finger: HOST_FINGER });
  });

  it("still accepts only the host's own key after deleting a stale one: another pending key is refused", async () => {
    const master = fakeMaster({ state: 'minions', finger: OTHER }, [{ state: 'minions_pre', finger: OTHER }]);
    await expect(accept(master)).rejects.toThrow(`The pending key for ${ID} on the master has fingerprint ${OTHER}, not ${HOST_FINGER}`);
    expect(master.calls).not.toContain('key.accept');
  });

  it('refuses a rejected key', async () => {
    await expect(accept(fakeMaster({ state: 'minions_rejected', finger: HOST_FINGER }))).rejects.toThrow(/is rejected on the master/);
  });

  it('gives up at its deadline with the wait-key step named', async () => {
    const error = await accept(fakeMaster(undefined), 30).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentInstallError);
    expect(error).toMatchObject({ step: 'wait-key', host: ID });
    expect((error as Error).message).toContain(`The minion key of ${ID} did not reach the master within 0 s`);
  });
});
