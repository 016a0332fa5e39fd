import type { HostResult } from '../salt/normalise-result.js';
import type { SaltClient } from '../salt/salt-client.js';

interface Facts {
  version: string;
  /** The user salt-minion runs as (grain `username`). */
  user: string | undefined;
  at: number;
}

/**
 * The salt version of each minion and the user it runs as (`grains.item saltversion username`), cached per
 * container for ten minutes: cmd.script takes its `args` differently across salt versions, and a script
 * to run as the minion's own user needs no `runas` (see userOf). A host that does not answer the probe
 * is returned as its failed result (and not cached), so a host that is down when first seen fails before
 * any script job is started.
 */
export class MinionVersions {
  private readonly cache = new Map<string, Facts>();

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
      const results = await this.salt().local(
        { fun: 'grains.item', arg: ['saltversion', 'username'], tgt: unknown, timeout: 5, gatherJobTimeout: 10 },
        signal ? { signal } : {},
      );
      for (const r of results) {
        const grains = (r.ok && r.ret && typeof r.ret === 'object' ? r.ret : {}) as Record<string, unknown>;
        const version = grains['saltversion'];
        if (typeof version === 'string' && version) {
          const user = typeof grains['username'] === 'string' && grains['username'] ? grains['username'] : undefined;
          this.cache.set(r.host, { version, user, at: this.now() });
          out.set(r.host, version);
        } else {
          out.set(r.host, r.ok ? { ...r, ok: false, error: 'BAD_SHAPE', message: `Minion ${r.host} did not report its salt version` } : r);
        }
      }
    }
    return out;
  }

  /**
   * The user the minion runs as, once `of` has seen the host. salt's `runas` starts `su - <user>` and a
   * Python interpreter on the host to read that user's login environment, for every job: a script for the
   * minion's own user (root) runs without it, as the same user, in the minion's environment.
   */
  userOf(host: string): string | undefined {
    return this.cache.get(host)?.user;
  }
}
