/**
 * Admission toward salt: a bound on salt jobs in flight per minion and in total, so that a burst of
 * callers becomes a queue instead of a pile of forked minion processes that all miss their deadlines.
 * Every job of a request takes one slot on each of its target minions and one of the total before it is
 * started, and gives them back when it has been gathered (or given up). Waiters are served in arrival
 * order per minion: a job is never overtaken by a later one that needs one of the same minions, and a
 * job waiting only for the total is never overtaken at all, so nobody starves; a job on other minions
 * may go first when the one ahead waits for a busy minion only.
 *
 * This bounds one process (a Lambda instance, `npm start`). On AWS many instances run at once: the
 * salt-facing functions' reserved concurrency caps how many exist (README, Deploying), so the fleet-wide
 * bound is their product.
 */
import { SaltBusyError } from '../errors.js';

export interface AdmissionLimits {
  /** Jobs in flight on one minion. */
  perMinion: number;
  /** Jobs in flight in all. */
  total: number;
}

/** Slots held by one job: give them back exactly once (a second release does nothing). */
export interface Slot {
  release(): void;
  /** How long the job waited for its slots (ms). */
  waitedMs: number;
  /** Another job was in flight on one of its minions when it got its slots. */
  contended: boolean;
}

interface Waiter {
  hosts: string[];
  since: number;
  grant: (slot: Slot) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

export class SaltAdmission {
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limits.perMinion >= 1 && limits.total >= 1)) throw new RangeError('admission limits must be at least 1');
  }

  /** Jobs in flight now: on `host`, or in all. */
  running(host?: string): number {
    return host === undefined ? this.total : (this.inFlight.get(host) ?? 0);
  }

  /** Callers waiting for slots now. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Waits for one slot on each of `hosts` and one of the total, in arrival order, until `deadlineMs`.
   * Rejects with SaltBusyError (naming the busiest minion, the wait and the limits) when the deadline
   * passes first, or with the signal's reason when it is aborted; nothing is held then.
   */
  acquire(hosts: readonly string[], options: { deadlineMs: number; signal?: AbortSignal | undefined }): Promise<Slot> {
    const wanted = [...new Set(hosts)];
    const since = this.now();
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (!this.queue.length && this.fits(wanted)) return Promise.resolve(this.take(wanted, since));
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = { hosts: wanted, since, grant: resolve, reject, cleanup: () => undefined };
      const leave = (error: unknown) => {
        const at = this.queue.indexOf(waiter);
        if (at < 0) return;
        this.queue.splice(at, 1);
        waiter.cleanup();
        reject(error);
        // A waiter that left may have been holding back others behind it.
        this.pump();
      };
      const timer = setTimeout(() => leave(this.busyError(wanted, since)), Math.max(0, options.deadlineMs - this.now()));
      const onAbort = () => leave(options.signal!.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      waiter.cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.queue.push(waiter);
      // Those ahead may wait for busy minions only: this one may fit now.
      this.pump();
    });
  }

  /** Runs `work` holding slots for `hosts`; the slots are given back however it ends. */
  async run<T>(hosts: readonly string[], options: { deadlineMs: number; signal?: AbortSignal | undefined }, work: (slot: Slot) => Promise<T>): Promise<T> {
    const slot = await this.acquire(hosts, options);
    try {
      return await work(slot);
    } finally {
      slot.release();
    }
  }

  private fits(hosts: readonly string[]): boolean {
    if (this.total >= this.limits.total) return false;
    return hosts.every((h) => (this.inFlight.get(h) ?? 0) < this.limits.perMinion);
  }

  private take(hosts: string[], since: number): Slot {
    this.total++;
    const contended = hosts.some((h) => (this.inFlight.get(h) ?? 0) > 0);
    for (const h of hosts) this.inFlight.set(h, (this.inFlight.get(h) ?? 0) + 1);
    let released = false;
    return {
      waitedMs: this.now() - since,
      contended,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        for (const h of hosts) {
          const n = (this.inFlight.get(h) ?? 1) - 1;
          if (n > 0) this.inFlight.set(h, n);
          else this.inFlight.delete(h);
        }
        this.pump();
      },
    };
  }

  /** Grants waiters in order: one is skipped only for a busy minion, and then holds that minion for itself. */
  private pump(): void {
    const claimed = new Set<string>();
    for (let i = 0; i < this.queue.length; ) {
      const waiter = this.queue[i]!;
      if (this.total >= this.limits.total) return; // the total is served strictly in order
      const blocked = waiter.hosts.some((h) => claimed.has(h));
      if (!blocked && this.fits(waiter.hosts)) {
        this.queue.splice(i, 1);
        waiter.cleanup();
        waiter.grant(this.take(waiter.hosts, waiter.since));
        continue;
      }
      for (const h of waiter.hosts) claimed.add(h);
      i++;
    }
  }

  private busyError(hosts: readonly string[], since: number): SaltBusyError {
    const busiest = [...hosts].sort((a, b) => (this.inFlight.get(b) ?? 0) - (this.inFlight.get(a) ?? 0))[0];
    const waited = ((this.now() - since) / 1000).toFixed(1);
    const where =
      this.total >= this.limits.total
        ? `${this.total} salt jobs in flight in all (SALT_MAX_JOBS ${this.limits.total})`
        : `${this.inFlight.get(busiest ?? '') ?? 0} salt jobs in flight on ${busiest} (SALT_MAX_JOBS_PER_MINION ${this.limits.perMinion})`;
    return new SaltBusyError(`waited ${waited} s for a salt slot and gave up at the deadline: ${where}`, hosts);
  }
}
