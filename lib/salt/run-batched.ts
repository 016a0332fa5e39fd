import { callKey, type LocalCall } from './build-lowstate.js';
import { unknownMinion, type HostResult, type NormaliseOptions } from './normalise-result.js';
import type { AsyncJob, SaltClient } from './salt-client.js';

/** One function for one host: what an item of a request needs. */
export type HostCall = Omit<LocalCall, 'tgt'> & { host: string };

export interface BatchOptions {
  /** Absolute deadline (ms since epoch) for async jobs. */
  deadlineMs: number;
  signal?: AbortSignal;
  normalise?: NormaliseOptions;
  onProgress?: (done: number, total: number) => void;
  /**
   * Start even a single group as an async job and poll it against `deadlineMs`: for work that can outlast
   * one HTTP request to salt-api (a download, mkfs), which a synchronous `local` call would cut short.
   */
  forceAsync?: boolean;
}

/**
 * Starts async jobs, one POST for all the jobs asked for in the same turn of the event loop: groups that
 * get their admission slots together (all of them, when salt is not busy) share one request to salt-api.
 */
function batchedStarts(salt: SaltClient, signal: AbortSignal | undefined): (call: LocalCall) => Promise<AsyncJob> {
  let pending: Array<{ call: LocalCall; resolve: (job: AsyncJob) => void; reject: (error: unknown) => void }> = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    salt
      .localAsync(
        batch.map((p) => p.call),
        { ...(signal && { signal }), noMatch: 'empty' },
      )
      .then(
        (jobs) => batch.forEach((p, i) => p.resolve(jobs[i]!)),
        (error: unknown) => batch.forEach((p) => p.reject(error)),
      );
  };
  return (call) =>
    new Promise<AsyncJob>((resolve, reject) => {
      if (!pending.length) setImmediate(flush);
      pending.push({ call, resolve, reject });
    });
}

/** Groups calls that run the same function with the same arguments: one salt job per group. */
export function groupCalls(calls: readonly HostCall[]): Array<{ call: LocalCall; indexes: number[] }> {
  const groups = new Map<string, { call: LocalCall; indexes: number[]; hosts: Set<string> }>();
  calls.forEach(({ host, ...rest }, index) => {
    const key = callKey(rest);
    let group = groups.get(key);
    if (!group) {
      group = { call: { ...rest, tgt: [] }, indexes: [], hosts: new Set() };
      groups.set(key, group);
    }
    group.indexes.push(index);
    group.hosts.add(host);
  });
  return [...groups.values()].map(({ call, indexes, hosts }) => ({ call: { ...call, tgt: [...hosts] }, indexes }));
}

/**
 * Runs per-host calls with as few salt jobs as possible: identical calls become one job on a host
 * list; different calls are started as async jobs (each once it has admission slots) and gathered
 * concurrently. Never one sequential round-trip per host. Returns one result per call, in call order.
 */
export async function runBatched(salt: SaltClient, calls: readonly HostCall[], options: BatchOptions): Promise<HostResult[]> {
  if (calls.length === 0) return [];
  const groups = groupCalls(calls);
  const results = new Array<HostResult>(calls.length);
  const place = (indexes: number[], hostResults: HostResult[]) => {
    const byHost = new Map(hostResults.map((r) => [r.host, r]));
    for (const i of indexes) results[i] = { ...byHost.get(calls[i]!.host)! };
  };

  if (groups.length === 1 && !options.forceAsync) {
    const [group] = groups;
    place(
      group!.indexes,
      await salt.local(group!.call, {
        ...(options.signal && { signal: options.signal }),
        ...(options.normalise && { normalise: options.normalise }),
        // the sync request lasts as long as the job runs: let it run until the caller's deadline
        httpTimeoutMs: options.deadlineMs - Date.now(),
      }),
    );
    return results;
  }

  // Each group is one job, started once it has admission slots on its hosts (SaltClient.admitted): a
  // burst of requests becomes a queue. A group whose ids all lack an accepted key starts no job (jid ''):
  // its hosts are all "not known".
  const start = batchedStarts(salt, options.signal);
  const total = calls.length;
  const doneByJob = new Array<number>(groups.length).fill(0);
  await Promise.all(
    groups.map(async (group, i) => {
      const hostResults = await salt.admitted(group.call.tgt, { deadlineMs: options.deadlineMs, signal: options.signal }, async () => {
        const job = await start(group.call);
        // Ids without an accepted key are left out of the job's minions by salt: they will never answer.
        const expected = new Set(job!.minions);
        const unknown = job!.minions.length || !job!.jid ? group.call.tgt.filter((h) => !expected.has(h)) : [];
        const waiting = group.call.tgt.filter((h) => !unknown.includes(h));
        const answered = !waiting.length
          ? []
          : await salt.waitForJob(job!.jid, waiting, {
              deadlineMs: options.deadlineMs,
              ...(options.signal && { signal: options.signal }),
              ...(options.normalise && { normalise: options.normalise }),
              onProgress: (done) => {
                doneByJob[i] = done;
                options.onProgress?.(
                  doneByJob.reduce((a, b) => a + b, 0),
                  total,
                );
              },
            });
        const notKnown = unknown.map(unknownMinion);
        return [...answered, ...notKnown];
      });
      place(group.indexes, hostResults);
    }),
  );
  return results;
}
