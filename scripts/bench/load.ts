/**
 * Load (issue 17): bounded bursts of concurrent callers against `npm start` (scripts/serve.ts, spawned on a
 * free port) on the local stack, as several WeCube workflows calling at once:
 *   - 60 host-info/query of both minions, 20 at a time;
 *   - 40 inline host-script/run-user-param on both minions, 20 at a time;
 *   - 40 release/status, 20 at a time;
 * each with its success rate, p50/p99, and the time a single request takes right after the burst compared
 * with before it (the stack must answer normally again at once). Side by side, the same host-info burst
 * sent straight to salt-api as the plugin used to send it (one sync grains.items + disk.usage job per
 * request): raw salt under the same load. Ratios and rates only: this machine is shared and noisy.
 */
import { join } from 'node:path';
import { readEnvFile } from '../lib/env-file.js';
import { startServer } from '../../test/support/server.js';
import { root } from './_minions.js';

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
};

interface Outcome {
  ok: boolean;
  ms: number;
  error?: string;
}

/** Runs `count` calls of `call`, at most `concurrency` at a time; every call is bounded by its own timeout. */
async function burst(count: number, concurrency: number, call: (i: number) => Promise<Outcome>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) outcomes.push(await call(next++));
    }),
  );
  return outcomes;
}

function report(name: string, outcomes: Outcome[], before: number, after: number): boolean {
  const ok = outcomes.filter((o) => o.ok);
  const times = outcomes.map((o) => o.ms);
  const errors = [...new Set(outcomes.filter((o) => !o.ok).map((o) => o.error))].slice(0, 2);
  console.log(
    `${name.padEnd(44)} ${String(ok.length).padStart(3)}/${outcomes.length} ok  p50 ${(percentile(times, 0.5) / 1000).toFixed(2)} s  p99 ${(percentile(times, 0.99) / 1000).toFixed(2)} s` +
      `  single request after/before the burst ${(after / before).toFixed(2)}x (${(before / 1000).toFixed(2)} s before)` +
      (errors.length ? `\n    e.g. ${errors.join('\n    e.g. ')}` : ''),
  );
  return ok.length === outcomes.length;
}

export async function run(): Promise<boolean> {
  const env = readEnvFile(join(root, '.stack', 'stack.env'));
  for (const [key, value] of Object.entries(env)) process.env[key] ??= value;
  const minions = env['STACK_MINIONS']!.split(',').slice(0, 2);
  const server = await startServer({ LOG_LEVEL: 'error' });
  const post = async (path: string, inputs: unknown[], timeoutMs = 120_000): Promise<Outcome> => {
    const t0 = performance.now();
    try {
      const response = await fetch(`${server.url}/saltstack/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.json()) as { resultCode: string; results?: { outputs?: Array<{ errorCode: string; errorMessage: string }> } };
      const failed = (body.results?.outputs ?? []).find((o) => o.errorCode !== '0');
      return { ok: body.resultCode === '0' && !failed, ms: performance.now() - t0, ...(failed && { error: failed.errorMessage.slice(0, 160) }) };
    } catch (error) {
      return { ok: false, ms: performance.now() - t0, error: String(error).slice(0, 160) };
    }
  };
  const hostInfo = () =>
    post(
      'host-info/query',
      minions.map((target, i) => ({ guid: `h${i}`, target })),
    );
  const script = (i: number) =>
    post(
      'host-script/run-user-param',
      minions.map((target, j) => ({ guid: `s${i}-${j}`, target, runAs: 'root', scriptContent: `echo load ${i}`, timeout: '60' })),
    );
  const status = (i: number) => post('release/status', [{ guid: `r${i}`, releaseId: 'bench-load-unknown' }]);
  const statusAnswered = async (i: number): Promise<Outcome> => {
    // An unknown release is an answer too (errorCode 1, "not found"): what counts is that it comes back.
    const o = await status(i);
    return { ...o, ok: o.ok || /not found|no release/i.test(o.error ?? '') };
  };
  const single = async (call: () => Promise<Outcome>) => {
    const o = await call();
    if (!o.ok) console.log(`    single request failed: ${o.error}`);
    return o.ms;
  };

  let allOk = true;
  try {
    // Warm-up: logins, first job on each minion, the S3 client.
    await hostInfo();
    await script(0);
    for (const [name, count, call, one] of [
      ['host-info/query (2 hosts) x60, 20 concurrent', 60, hostInfo, hostInfo],
      ['host-script inline (2 hosts) x40, 20 concurrent', 40, script, () => script(-1)],
      ['release/status x40, 20 concurrent', 40, statusAnswered, () => statusAnswered(-1)],
    ] as const) {
      const before = await single(one);
      const outcomes = await burst(count, 20, call as (i: number) => Promise<Outcome>);
      const after = await single(one);
      allOk = report(name, outcomes, before, after) && allOk;
    }
  } finally {
    await server.stop();
  }

  // Raw salt-api under the same host-info load: what the plugin used to send, one request at a time each.
  const { loadConfig } = await import('../../lib/config.js');
  const { createLogger } = await import('../../lib/log/logger.js');
  const { SaltClient } = await import('../../lib/salt/salt-client.js');
  const config = loadConfig({ STAGE: 'local', AUTH_MODE: 'off', ...env });
  const raw = new SaltClient({ ...config.salt, logger: createLogger('error') });
  const rawHostInfo = async (): Promise<Outcome> => {
    const t0 = performance.now();
    try {
      const results = (
        await Promise.all(['grains.items', 'disk.usage'].map((fun) => raw.local({ fun, tgt: minions, timeout: 5, gatherJobTimeout: 5 })))
      ).flat();
      const failed = results.find((r) => !r.ok);
      return { ok: !failed, ms: performance.now() - t0, ...(failed && { error: failed.message ?? '' }) };
    } catch (error) {
      return { ok: false, ms: performance.now() - t0, error: String(error).slice(0, 160) };
    }
  };
  const before = await single(rawHostInfo);
  const outcomes = await burst(60, 20, rawHostInfo);
  // Salt needs a while to come back after that: measure how long until a single call is normal again.
  const t0 = performance.now();
  let after = await single(rawHostInfo);
  while (after > before * 3 && performance.now() - t0 < 180_000) after = await single(rawHostInfo);
  report('baseline: raw salt-api, same host-info load', outcomes, before, after);
  console.log(`    raw salt-api answered normally again ${((performance.now() - t0) / 1000).toFixed(1)} s after its burst`);
  return allOk;
}
