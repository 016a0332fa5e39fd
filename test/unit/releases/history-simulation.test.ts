/**
 * Fleet scale, shown by simulation of the real artefact (issue 13): state-machines/release.asl.json run by
 * the local interpreter with fake tasks for 1,000 and 10,000 hosts (waits and retries at 0 s), each
 * execution's events converted to the history AWS would record (scripts/lib/release-history.ts), checked
 * against the limits AWS enforces on a Standard execution: 25,000 events, 256 KiB per state payload.
 * The same check pointed at the ASL before the Distributed Map (a fixture copy) must fail: a test of the test.
 */
import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import {
  AWS_HISTORY_EVENT_LIMIT,
  EVENTS_PER_POLL,
  HOST_EVENTS,
  INLINE_MAP_CONCURRENCY,
  maxPolls,
  SLICE_FIXED_EVENTS,
  sliceSizeFor,
  worstHostEvents,
} from '../../../lib/releases/history-budget.js';
import { ConfigError } from '../../../lib/errors.js';
import { MAX_BATCHES } from '../../../lib/releases/release-plan.js';
import { fleetFigures, limitViolations, simulateRelease, type FleetScenario } from '../../../scripts/lib/release-history.js';

const ASL = fileURLToPath(new URL('../../../state-machines/release.asl.json', import.meta.url));
const INLINE_ASL = fileURLToPath(new URL('../../fixtures/asl/release-v1-inline-map.asl.json', import.meta.url));
const budget = (maxFailures: number) => ({ maxFailures, minHealthy: 0 });

describe('a release on AWS, simulated from the real ASL', () => {
  it.each<[string, FleetScenario]>([
    ['1,000 hosts in batches of 100, 2% failing their health check', { hosts: 1000, strategy: { batchSize: 100, ...budget(1000) }, polls: 1, failEvery: 50 }],
    [
      '10,000 hosts, canary 1 then 10% then the rest (a batch of 9,000)',
      { hosts: 10_000, strategy: { batches: [1, '10%', '100%'], ...budget(10_000) }, polls: 3 },
    ],
    ['10,000 hosts all at once, 1% failing', { hosts: 10_000, strategy: { batchSize: 0, ...budget(10_000) }, polls: 1, failEvery: 100 }],
  ])(
    '%s: every execution under 25,000 events, every payload under 256 KiB',
    async (what, scenario) => {
      const sim = await simulateRelease(ASL, scenario);
      expect(limitViolations(sim)).toEqual([]);
      const figures = fleetFigures(sim, scenario.hosts);
      // every host ran in exactly one slice execution, and the release knew each one's end
      expect(sim.tally.succeeded + sim.tally.rolledBack + sim.tally.failed).toBe(scenario.hosts);
      expect(sim.tally.rolledBack).toBe(scenario.failEvery ? scenario.hosts / scenario.failEvery : 0);
      expect(figures.executions).toBe(1 + sim.slices.length);
      expect(sim.slices.length).toBeGreaterThanOrEqual(Math.ceil(scenario.hosts / sim.sliceSize));
      // the release's own history grows with its batches, not its hosts
      expect(sim.release.events).toBeLessThan(30 + 15 * sim.batches);
      process.stdout.write(
        `${what}: ${sim.batches} batch(es), ${sim.slices.length} slice executions of <= ${sim.sliceSize} hosts; ` +
          `largest history ${figures.maxEventsPerExecution} events (release ${figures.releaseEvents}), ` +
          `${figures.eventsPerHost.toFixed(1)} events, ${figures.transitionsPerHost.toFixed(1)} transitions and ${figures.lambdaCallsPerHost.toFixed(1)} Lambda calls per host, ` +
          `largest payload ${figures.largestPayload} B, Step Functions $${figures.usdPer1000Hosts.toFixed(3)} per 1,000 hosts\n`,
      );
    },
    120_000,
  );

  it(`stays under the limit with the most batches a plan may have (${MAX_BATCHES})`, async () => {
    const sim = await simulateRelease(ASL, { hosts: MAX_BATCHES, strategy: { batchSize: 1, ...budget(MAX_BATCHES) }, polls: 1 });
    expect(sim.batches).toBe(MAX_BATCHES);
    expect(limitViolations(sim)).toEqual([]);
    expect(sim.release.events).toBeLessThan(AWS_HISTORY_EVENT_LIMIT * 0.6);
  }, 120_000);

  it('keeps a worst-case slice under the limit: every host polled to the salt deadline, every health check retried and failed', async () => {
    const [jobTimeoutS, pollSeconds] = [300, 3]; // SALT_JOB_TIMEOUT_S, RELEASE_POLL_SECONDS defaults
    const size = sliceSizeFor(jobTimeoutS, pollSeconds);
    const sim = await simulateRelease(ASL, {
      hosts: size,
      strategy: { batchSize: 0, ...budget(size) },
      polls: maxPolls(jobTimeoutS, pollSeconds),
      failEvery: 1,
      jobTimeoutS,
      pollSeconds,
    });
    expect(sim.slices).toHaveLength(1);
    const [slice] = sim.slices;
    expect(slice!.events).toBeLessThan(AWS_HISTORY_EVENT_LIMIT);
    // the budget's constants are upper bounds of what the ASL really records
    expect(slice!.events).toBeLessThanOrEqual(SLICE_FIXED_EVENTS + size * worstHostEvents(jobTimeoutS, pollSeconds));
  }, 120_000);

  it('measures the per-host and per-poll event counts the slice budget assumes (history-budget.ts)', async () => {
    const one = await simulateRelease(ASL, { hosts: 1, strategy: { batchSize: 0, ...budget(1) }, polls: 1 });
    const twoPolls = await simulateRelease(ASL, { hosts: 1, strategy: { batchSize: 0, ...budget(1) }, polls: 2 });
    expect(one.slices[0]!.events).toBeLessThanOrEqual(SLICE_FIXED_EVENTS + HOST_EVENTS);
    expect(one.slices[0]!.events).toBeGreaterThan(0.8 * (SLICE_FIXED_EVENTS + HOST_EVENTS)); // upper bounds, not loose ones
    expect(twoPolls.slices[0]!.events - one.slices[0]!.events).toBe(EVENTS_PER_POLL);
  }, 60_000);

  it.each([
    [300, 3, 20],
    [300, 30, INLINE_MAP_CONCURRENCY],
    [3600, 2, 1],
  ])('sizes slices for SALT_JOB_TIMEOUT_S=%i, RELEASE_POLL_SECONDS=%i: %i host(s)', (timeout, poll, expected) => {
    expect(sliceSizeFor(timeout, poll)).toBe(expected);
  });

  it('refuses polls so frequent that one host could outgrow an execution, naming both variables and the way out', () => {
    expect(() => sliceSizeFor(3600, 1)).toThrow(ConfigError);
    expect(() => sliceSizeFor(3600, 1)).toThrow(/RELEASE_POLL_SECONDS=1 with SALT_JOB_TIMEOUT_S=3600: .* raise RELEASE_POLL_SECONDS to at least 2$/);
    expect(sliceSizeFor(3600, 2)).toBe(1); // the way out it names works
  });
});

describe('the simulation itself (a test of the test)', () => {
  it('finds that the ASL before the Distributed Map breaks AWS history limit on 1,000 hosts', async () => {
    const sim = await simulateRelease(INLINE_ASL, { hosts: 1000, strategy: { batchSize: 100, ...budget(1000) }, polls: 1 });
    expect(sim.slices).toEqual([]);
    expect(sim.tally.succeeded).toBe(1000);
    expect(limitViolations(sim)).toEqual([expect.stringMatching(/^release execution: \d+ history events \(AWS stops an execution at 25000\)$/)]);
    // about 40 events per host in the one execution: the 607-host ceiling the issue measured
    expect(sim.release.events / 1000).toBeGreaterThan(39);
  }, 120_000);

  it('finds the payload limit too: the old state carries every host id', async () => {
    // the canary fails and the release halts: the host list Prepare passed on is what breaks the limit
    const sim = await simulateRelease(INLINE_ASL, { hosts: 10_000, strategy: { batches: [1, '100%'], ...budget(0) }, polls: 1, failEvery: 1 });
    expect(sim.tally).toEqual({ succeeded: 0, rolledBack: 1, failed: 0 });
    expect(limitViolations(sim).some((v) => /a state payload of \d+ bytes/.test(v))).toBe(true);
  }, 120_000);
});
