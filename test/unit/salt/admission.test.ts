import { describe, expect, it } from '@jest/globals';
import { SaltBusyError } from '../../../lib/errors.js';
import { SaltAdmission, type Slot } from '../../../lib/salt/admission.js';

const far = () => ({ deadlineMs: Date.now() + 60_000 });
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Acquires and records the order in which the grants happen. */
function recorder(admission: SaltAdmission) {
  const order: string[] = [];
  const slots = new Map<string, Slot>();
  const ask = (name: string, hosts: string[], options = far()) =>
    admission.acquire(hosts, options).then((slot) => {
      order.push(name);
      slots.set(name, slot);
      return slot;
    });
  return { order, slots, ask };
}

describe('SaltAdmission', () => {
  it('grants at once under the limits and counts what is in flight per minion and in all', async () => {
    const a = new SaltAdmission({ perMinion: 2, total: 10 });
    const s1 = await a.acquire(['m1', 'm2'], far());
    const s2 = await a.acquire(['m1'], far());
    expect([a.running('m1'), a.running('m2'), a.running()]).toEqual([2, 1, 2]);
    expect(s1.waitedMs).toBeGreaterThanOrEqual(0);
    // the second job shares m1 with one in flight: salt's sync call would stall on it
    expect([s1.contended, s2.contended]).toEqual([false, true]);
    s1.release();
    s2.release();
    expect([a.running('m1'), a.running('m2'), a.running()]).toEqual([0, 0, 0]);
  });

  it('queues past the per-minion limit and serves the queue in arrival order', async () => {
    const a = new SaltAdmission({ perMinion: 1, total: 10 });
    const r = recorder(a);
    const first = await r.ask('first', ['m1']);
    const waiting = ['b', 'c', 'd'].map((n) => r.ask(n, ['m1']));
    await tick();
    expect(r.order).toEqual(['first']);
    expect(a.waiting).toBe(3);
    first.release();
    await waiting[0];
    r.slots.get('b')!.release();
    await waiting[1];
    r.slots.get('c')!.release();
    await waiting[2];
    expect(r.order).toEqual(['first', 'b', 'c', 'd']);
  });

  it('lets a job on other minions go ahead of one waiting for a busy minion, but never one needing that minion', async () => {
    const a = new SaltAdmission({ perMinion: 1, total: 10 });
    const r = recorder(a);
    const busy = await r.ask('busy', ['m1']);
    const both = r.ask('both', ['m1', 'm2']);
    const onlyM2 = r.ask('onlyM2', ['m2']);
    const other = r.ask('other', ['m3']);
    await other;
    await tick();
    // m3 is free: served. m2 is free too, but `both` came first and needs it.
    expect(r.order).toEqual(['busy', 'other']);
    busy.release();
    await both;
    expect(r.order).toEqual(['busy', 'other', 'both']);
    r.slots.get('both')!.release();
    await onlyM2;
    expect(r.order).toEqual(['busy', 'other', 'both', 'onlyM2']);
  });

  it('serves the total strictly in order', async () => {
    const a = new SaltAdmission({ perMinion: 5, total: 1 });
    const r = recorder(a);
    const head = await r.ask('head', ['m1']);
    const second = r.ask('second', ['m2']);
    const third = r.ask('third', ['m3']);
    await tick();
    head.release();
    await second;
    await tick();
    expect(r.order).toEqual(['head', 'second']);
    r.slots.get('second')!.release();
    await third;
    expect(r.order).toEqual(['head', 'second', 'third']);
  });

  it('gives up at the deadline with a SaltBusyError naming the minion, the wait and the limit, holding nothing', async () => {
    const a = new SaltAdmission({ perMinion: 1, total: 10 });
    const held = await a.acquire(['m1'], far());
    const error = await a.acquire(['m1', 'm2'], { deadlineMs: Date.now() + 30 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SaltBusyError);
    expect((error as SaltBusyError).message).toMatch(
      /^waited 0\.\d s for a salt slot and gave up at the deadline: 1 salt jobs in flight on m1 \(SALT_MAX_JOBS_PER_MINION 1\)$/,
    );
    expect((error as SaltBusyError).hosts).toEqual(['m1', 'm2']);
    expect([a.running('m2'), a.waiting]).toEqual([0, 0]);
    held.release();
    expect(a.running()).toBe(0);
  });

  it('names the total when that is what was full', async () => {
    const a = new SaltAdmission({ perMinion: 5, total: 1 });
    const held = await a.acquire(['m1'], far());
    const error = (await a.acquire(['m2'], { deadlineMs: Date.now() + 20 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('1 salt jobs in flight in all (SALT_MAX_JOBS 1)');
    held.release();
  });

  it('a waiter that times out no longer holds back those behind it', async () => {
    const a = new SaltAdmission({ perMinion: 1, total: 10 });
    const r = recorder(a);
    await r.ask('m1-holder', ['m1']);
    const timedOut = r.ask('both', ['m1', 'm2'], { deadlineMs: Date.now() + 20 }).catch((e: unknown) => e);
    const behind = r.ask('m2-only', ['m2']);
    await tick();
    expect(r.order).toEqual(['m1-holder']);
    expect(await timedOut).toBeInstanceOf(SaltBusyError);
    await behind;
    expect(r.order).toEqual(['m1-holder', 'm2-only']);
  });

  it('an aborted waiter rejects with the reason and leaks no slot', async () => {
    const a = new SaltAdmission({ perMinion: 1, total: 10 });
    const held = await a.acquire(['m1'], far());
    const controller = new AbortController();
    const waiting = a.acquire(['m1'], { ...far(), signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('caller gone'));
    expect(((await waiting) as Error).message).toBe('caller gone');
    expect(a.waiting).toBe(0);
    held.release();
    expect(a.running()).toBe(0);
    await expect(a.acquire(['m1'], { ...far(), signal: controller.signal })).rejects.toThrow('caller gone');
  });

  it('run() gives the slots back when the work throws, and a double release counts once', async () => {
    const a = new SaltAdmission({ perMinion: 1, total: 2 });
    await expect(
      a.run(['m1'], far(), async () => {
        throw new Error('job failed');
      }),
    ).rejects.toThrow('job failed');
    expect(a.running()).toBe(0);
    const s = await a.acquire(['m1'], far());
    s.release();
    s.release();
    expect([a.running(), a.running('m1')]).toEqual([0, 0]);
    const again = await Promise.all([a.acquire(['m2'], far()), a.acquire(['m3'], far())]);
    expect(a.running()).toBe(2);
    again.forEach((x) => x.release());
  });

  it('a burst of 200 callers on 2 minions all get through with at most the limits in flight', async () => {
    const a = new SaltAdmission({ perMinion: 3, total: 4 });
    let peak = 0;
    let peakM1 = 0;
    const jobs = Array.from({ length: 200 }, (_, i) =>
      a.run(i % 3 === 0 ? ['m1', 'm2'] : [i % 2 ? 'm1' : 'm2'], far(), async () => {
        peak = Math.max(peak, a.running());
        peakM1 = Math.max(peakM1, a.running('m1'));
        await tick();
        return i;
      }),
    );
    expect((await Promise.all(jobs)).length).toBe(200);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peakM1).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect([a.running(), a.waiting]).toEqual([0, 0]);
  });
});
