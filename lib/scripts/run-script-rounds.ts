import type { LocalCall } from '../salt/build-lowstate.js';
import type { HostResult } from '../salt/normalise-result.js';
import type { HostCall } from '../salt/run-batched.js';
import type { ArgsForm } from './build-script-call.js';
import { classifyScriptResult } from './classify-script-result.js';
import type { ScriptStep } from './plan-scripts.js';

/** The scripts one item runs on its host, in order. */
export interface ScriptJob {
  host: string;
  steps: ScriptStep[];
  runAs: string;
  timeoutS: number;
  /** How cmd.script takes args on this host (only for S3/inline steps with arguments). */
  argsForm?: ArgsForm | undefined;
}

export interface ScriptJobResult {
  ok: boolean;
  /** Exit code of the last script that ran (0 when none did). */
  retCode: number;
  /** Output of each script that ran, in order. */
  outputs: string[];
  error?: unknown;
}

export interface RoundDeps {
  /** The salt call of one step (without target); `variant` is the same for identical steps of a request. */
  buildCall(job: ScriptJob, step: ScriptStep, variant: number): Promise<Omit<LocalCall, 'tgt'>>;
  /** Runs one round of calls (runBatched: identical calls become one job on a host list). */
  runRound(calls: HostCall[]): Promise<HostResult[]>;
}

/** What makes two steps the same salt call, the host aside. */
function signature(job: ScriptJob, step: ScriptStep): string {
  const source =
    step.source.kind === 'local'
      ? ['local', step.source.path]
      : step.source.kind === 's3'
        ? ['s3', step.source.ref.bucket, step.source.ref.key]
        : ['inline', step.source.content];
  return JSON.stringify([source, step.args, step.cwd ?? null, job.runAs, job.timeoutS, job.argsForm ?? null]);
}

/**
 * Runs every job's scripts in rounds: round k runs the k-th script of every job still going, all of them
 * in one runRound (so the same script on ten hosts is one salt job). A job stops at its first failure.
 * A job whose step is identical to another job's on the same host waits for the next round, so that each
 * item really runs and two jobs never share one download on a host.
 */
export async function runScriptRounds(jobs: readonly ScriptJob[], deps: RoundDeps): Promise<ScriptJobResult[]> {
  const results: ScriptJobResult[] = jobs.map(() => ({ ok: true, retCode: 0, outputs: [] }));
  const next = jobs.map(() => 0);
  const done = jobs.map((job) => job.steps.length === 0);
  const variants = new Map<string, number>();
  const fail = (i: number, error: unknown, retCode = 1) => {
    results[i] = { ...results[i]!, ok: false, retCode, error };
    done[i] = true;
  };

  while (done.some((d) => !d)) {
    const taken = new Set<string>();
    const picked: Array<{ i: number; step: ScriptStep; variant: number }> = [];
    jobs.forEach((job, i) => {
      if (done[i]) return;
      const step = job.steps[next[i]!]!;
      const sig = signature(job, step);
      if (taken.has(`${sig}@${job.host}`)) return;
      taken.add(`${sig}@${job.host}`);
      if (!variants.has(sig)) variants.set(sig, variants.size);
      picked.push({ i, step, variant: variants.get(sig)! });
    });
    const built = await Promise.allSettled(picked.map(({ i, step, variant }) => deps.buildCall(jobs[i]!, step, variant)));
    const calls: HostCall[] = [];
    const owners: typeof picked = [];
    built.forEach((b, k) => {
      const { i } = picked[k]!;
      if (b.status === 'rejected') return fail(i, b.reason);
      calls.push({ ...b.value, host: jobs[i]!.host });
      owners.push(picked[k]!);
    });
    if (!calls.length) continue;
    let hostResults: HostResult[];
    try {
      hostResults = await deps.runRound(calls);
    } catch (error) {
      for (const { i } of owners) fail(i, error);
      continue;
    }
    owners.forEach(({ i, step }, k) => {
      const job = jobs[i]!;
      const outcome = classifyScriptResult(hostResults[k]!, step.label, job.runAs, job.timeoutS);
      results[i]!.outputs.push(outcome.output);
      results[i]!.retCode = outcome.retCode;
      if (!outcome.ok) return fail(i, outcome.error, outcome.retCode);
      next[i] = next[i]! + 1;
      if (next[i] === job.steps.length) done[i] = true;
    });
  }
  return results;
}
