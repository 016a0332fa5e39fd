import { AgentInstallError } from '../errors.js';
import type { SaltClient } from '../salt/salt-client.js';

/** Waits until `test.ping` on `id` answers through salt-api; throws AgentInstallError (step ping) at the deadline. */
export async function waitForPing(salt: Pick<SaltClient, 'local'>, id: string, waitMs: number, signal: AbortSignal, pollMs = 1000): Promise<number> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const [result] = await salt.local({ fun: 'test.ping', tgt: [id], timeout: 5, gatherJobTimeout: 5 }, { signal });
    if (result?.ok && result.ret === true) return Date.now() - started;
    last = result?.message ?? 'no answer';
    if (Date.now() - started >= waitMs || signal.aborted) {
      throw new AgentInstallError(`The minion ${id} was accepted but did not answer test.ping within ${Math.round(waitMs / 1000)} s (${last})`, id, 'ping');
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
