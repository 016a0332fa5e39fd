import { AgentInstallError, AgentKeyError } from '../errors.js';

export type WheelCall = (fun: string, kwarg: Record<string, unknown>, signal?: AbortSignal) => Promise<unknown>;
/** accepted: the pending key was accepted; known: it already was; replaced: a stale accepted key was deleted first. */
export type KeyStatus = 'accepted' | 'known' | 'replaced';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

const listOf = (keys: unknown, state: string): string[] => {
  const list = (keys as Record<string, unknown> | null)?.[state];
  return Array.isArray(list) ? list.filter((k): k is string => typeof k === 'string') : [];
};

/** The fingerprint wheel `key.finger` gives for `id` in one key state (`minions`, `minions_pre`). */
async function masterFinger(wheel: WheelCall, id: string, state: string, signal: AbortSignal): Promise<string | undefined> {
  const ret = (await wheel('key.finger', { match: id }, signal)) as Record<string, Record<string, unknown> | undefined> | null;
  const finger = ret?.[state]?.[id];
  return typeof finger === 'string' ? finger : undefined;
}

/**
 * Accepts the minion key of `id` only when the master's copy has the fingerprint read from the host
 * (never auto_accept): waits for the key to arrive (wheel key.list_all), compares (key.finger), accepts
 * (key.accept) and checks the accepted copy again. A stale accepted key with another fingerprint (a
 * re-imaged host) is deleted and the host's new key accepted, as upstream callers expect without any flag:
 * the caller got `finger` over an SSH session it authenticated to that very host, which is the proof that
 * the host owns the id; `onReplace` hears the old fingerprint. Throws AgentKeyError when a pending key is
 * not the host's (nothing accepted), AgentInstallError when no key arrives before `waitMs`.
 */
export async function acceptMinionKey(input: {
  wheel: WheelCall;
  id: string;
  finger: string;
  waitMs: number;
  onReplace?: (oldFinger: string | undefined) => void;
  signal: AbortSignal;
  pollMs?: number;
}): Promise<KeyStatus> {
  const { wheel, id, finger, signal } = input;
  const deadline = Date.now() + input.waitMs;
  let replaced = false;
  for (;;) {
    const keys = await wheel('key.list_all', {}, signal);
    if (listOf(keys, 'minions').includes(id)) {
      const accepted = await masterFinger(wheel, id, 'minions', signal);
      if (accepted === finger) return replaced ? 'replaced' : 'known';
      input.onReplace?.(accepted);
      await wheel('key.delete', { match: id }, signal);
      replaced = true;
    } else if (listOf(keys, 'minions_pre').includes(id)) {
      const pending = await masterFinger(wheel, id, 'minions_pre', signal);
      if (pending !== finger) {
        throw new AgentKeyError(
          `The pending key for ${id} on the master has fingerprint ${pending}, not ${finger} read from the host: refusing to accept it ` +
            `(another machine may be using this id; check, then delete it with wheel key.delete)`,
          id,
        );
      }
      await wheel('key.accept', { match: id }, signal);
      const accepted = await masterFinger(wheel, id, 'minions', signal);
      if (accepted !== finger) {
        // the pending key changed between the check and the accept: undo, accept nothing unverified
        await wheel('key.delete', { match: id }, signal);
        throw new AgentKeyError(`The key accepted for ${id} has fingerprint ${accepted}, not ${finger}: it was deleted again`, id);
      }
      return replaced ? 'replaced' : 'accepted';
    } else if (listOf(keys, 'minions_rejected').includes(id)) {
      throw new AgentKeyError(`The key of ${id} is rejected on the master: delete it (wheel key.delete) before installing again`, id);
    }
    if (Date.now() >= deadline || signal.aborted) {
      throw new AgentInstallError(
        `The minion key of ${id} did not reach the master within ${Math.round(input.waitMs / 1000)} s: check that the host reaches the master's ports`,
        id,
        'wait-key',
      );
    }
    await sleep(input.pollMs ?? 1000, signal);
  }
}
