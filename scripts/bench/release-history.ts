/**
 * A release on AWS at fleet scale (issue 13), by simulation of the real state-machines/release.asl.json with
 * AWS's event counts (scripts/lib/release-history.ts): events, transitions and Lambda calls per host, the
 * largest execution history and the Step Functions cost per 1,000 hosts, side by side with the ASL before
 * the Distributed Map (test/fixtures/asl) on the same fleet. No stack needed.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fleetFigures, limitViolations, simulateRelease, type FleetScenario } from '../lib/release-history.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ASLS = {
  'release.asl.json': join(root, 'state-machines', 'release.asl.json'),
  'before (one inline Map)': join(root, 'test', 'fixtures', 'asl', 'release-v1-inline-map.asl.json'),
};

export async function run(): Promise<boolean> {
  const scenarios: Array<[string, FleetScenario]> = [
    ['1,000 hosts, batches of 100', { hosts: 1000, strategy: { batchSize: 100, maxFailures: 1000, minHealthy: 0 }, polls: 1 }],
    ['10,000 hosts, ["1","10%","100%"], 3 polls', { hosts: 10_000, strategy: { batches: [1, '10%', '100%'], maxFailures: 10_000, minHealthy: 0 }, polls: 3 }],
  ];
  let ok = true;
  for (const [what, scenario] of scenarios) {
    for (const [name, asl] of Object.entries(ASLS)) {
      if (name !== 'release.asl.json' && scenario.hosts > 1000) continue; // the old one is minutes of one huge execution
      const started = Date.now();
      const sim = await simulateRelease(asl, scenario);
      const f = fleetFigures(sim, scenario.hosts);
      const violations = limitViolations(sim);
      if (name === 'release.asl.json' && violations.length) ok = false;
      console.log(
        `${what} | ${name}: ${f.executions} execution(s), largest history ${f.maxEventsPerExecution} events, ` +
          `${f.eventsPerHost.toFixed(1)} events / ${f.transitionsPerHost.toFixed(1)} transitions / ${f.lambdaCallsPerHost.toFixed(1)} Lambda calls per host, ` +
          `largest payload ${f.largestPayload} B, $${f.usdPer1000Hosts.toFixed(3)} per 1,000 hosts, ` +
          `${violations.length ? `BREAKS AWS LIMITS (${violations[0]})` : 'within AWS limits'} [simulated in ${Date.now() - started} ms]`,
      );
    }
  }
  return ok;
}
