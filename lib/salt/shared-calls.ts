/**
 * Read-only facts asked by concurrent requests share one salt job: while a `disk.usage` for a minion is in
 * flight, a second request for the same minion waits for that job instead of forking another process on
 * it. Only for functions without side effects whose answer a few seconds old is as good as a new one.
 */
import type { HostResult } from './normalise-result.js';

export class SharedCalls {
  private readonly inFlight = new Map<string, Promise<HostResult>>();

  /** How many host answers are being waited for now (for tests and progress). */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * One result per host of `hosts`, in order: hosts with the same `key` already in flight join that job;
   * the others are asked together with one call of `start` (which must answer every host it is given).
   */
  async run(key: string, hosts: readonly string[], start: (hosts: string[]) => Promise<HostResult[]>): Promise<HostResult[]> {
    const wanted = [...new Set(hosts)];
    const missing = wanted.filter((h) => !this.inFlight.has(`${key}\0${h}`));
    if (missing.length) {
      const job = start(missing);
      for (const host of missing) {
        const id = `${key}\0${host}`;
        const one = job.then((results) => {
          const found = results.find((r) => r.host === host);
          if (!found) throw new Error(`salt answered no result for ${host}`);
          return found;
        });
        this.inFlight.set(id, one);
        // Forgotten once settled: the next request asks again.
        one.then(
          () => this.inFlight.delete(id),
          () => this.inFlight.delete(id),
        );
      }
    }
    // Taken now, before any of them settles (settling removes them from the map).
    const answers = wanted.map((h) => this.inFlight.get(`${key}\0${h}`)!);
    const byHost = new Map((await Promise.all(answers)).map((r) => [r.host, r]));
    return hosts.map((h) => ({ ...byHost.get(h)! }));
  }
}
