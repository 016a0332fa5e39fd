/**
 * How many hosts one slice (one child execution of the release's Distributed Map) may hold so that its
 * execution history stays under AWS's 25,000 events whatever happens on its hosts: every distribution polled
 * until the salt job's deadline, every step retried to its last attempt. The event counts are those of
 * AWS's history for the states of state-machines/release.asl.json; test/unit/releases/history-simulation.test.ts
 * runs the real file and checks them, so a change to the ASL that costs more events fails there first.
 */

import { ConfigError } from '../errors.js';

/** AWS Step Functions Standard: an execution stops with a runtime error at 25,000 history events. */
export const AWS_HISTORY_EVENT_LIMIT = 25_000;

/** AWS runs an inline Map at most 40 iterations at a time: a larger slice would only queue. */
export const INLINE_MAP_CONCURRENCY = 40;

/** One slice execution without its hosts: start/end, LoadSlice, the inline Map's own events, TallySlice. */
export const SLICE_FIXED_EVENTS = 20;

/** One host in the slice's inline Map, with one distribution poll: the measured path with the most states. */
export const HOST_EVENTS = 40;

/** Each further poll of a distribution: Wait (2), CheckDistribution (5), DistributionDone (2). */
export const EVENTS_PER_POLL = 9;

/**
 * The retries one host may add: every retried Lambda attempt records 3 events (scheduled, started,
 * failed). Bounded by the Retry blocks of the host steps (at most 8 attempts each over 8 steps).
 */
export const HOST_RETRY_EVENTS = 8 * 7 * 3;

/** Polls of one distribution at most: the salt job's deadline over the poll interval, plus the first. */
export const maxPolls = (jobTimeoutS: number, pollSeconds: number): number => Math.ceil(jobTimeoutS / Math.max(1, pollSeconds)) + 1;

/** The most events one host can add to its slice's history. */
export const worstHostEvents = (jobTimeoutS: number, pollSeconds: number): number =>
  HOST_EVENTS + EVENTS_PER_POLL * (maxPolls(jobTimeoutS, pollSeconds) - 1) + HOST_RETRY_EVENTS;

/**
 * Hosts per slice: as many as fit the worst case in 90% of the history limit, at most the inline Map's
 * concurrency. Throws ConfigError when not even one host fits (polls too frequent for the job timeout).
 */
export function sliceSizeFor(jobTimeoutS: number, pollSeconds: number): number {
  const room = AWS_HISTORY_EVENT_LIMIT * 0.9 - SLICE_FIXED_EVENTS;
  const fits = Math.floor(room / worstHostEvents(jobTimeoutS, pollSeconds));
  if (fits < 1) {
    const polls = Math.floor((room - HOST_EVENTS - HOST_RETRY_EVENTS) / EVENTS_PER_POLL);
    throw new ConfigError(
      `RELEASE_POLL_SECONDS=${pollSeconds} with SALT_JOB_TIMEOUT_S=${jobTimeoutS}: one host's distribution may be polled ${maxPolls(jobTimeoutS, pollSeconds)} times, ` +
        `more history events than AWS keeps for an execution (25,000): raise RELEASE_POLL_SECONDS to at least ${Math.ceil(jobTimeoutS / polls)}`,
    );
  }
  return Math.min(INLINE_MAP_CONCURRENCY, fits);
}

/** The slice indices of a batch of `hosts` hosts, `size` per slice: [0, 1, ..., ceil(hosts/size) - 1]. */
export const slicesOf = (hosts: number, size: number): number[] => Array.from({ length: Math.ceil(hosts / size) }, (_, i) => i);
