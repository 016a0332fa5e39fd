import type { HostResult } from '../salt/normalise-result.js';
import type { SaltClient } from '../salt/salt-client.js';

/**
 * The salt version of each minion (`test.version`), cached per container for ten minutes: cmd.script
 * takes its `args` differently across salt versions. A host that does not answer the probe is returned
 * as its failed result (and not cached), so a host that is down when first seen fails before any script
 * job is started.
 */
export class MinionVersions {
  private readonly cache = new Map<string, { version: string; at: number }>();

  constructor(
    private readonly salt: () => SaltClient,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Version text per host, or the HostResult of a host that did not answer. One salt job for the unknown ones. */
  async of(hosts: readonly string[], signal?: AbortSignal): Promise<Map<string, string | HostResult>> {
    const out = new Map<string, string | HostResult>();
    const unknown: string[] = [];
    for (const host of new Set(hosts)) {
      const hit = this.cache.get(host);
      if (hit && this.now() - hit.at < this.ttlMs) out.set(host, hit.version);
      else unknown.push(host);
    }
    if (unknown.length) {
      const results = await this.salt().local({ fun: 'test.version', tgt: unknown, timeout: 5, gatherJobTimeout: 10 }, signal ? { signal } : {});
      for (const r of results) {
        if (r.ok && typeof r.ret === 'string') {
          this.cache.set(r.host, { version: r.ret, at: this.now() });
          out.set(r.host, r.ret);
        } else {
          out.set(r.host, r);
        }
      }
    }
    return out;
  }
}
