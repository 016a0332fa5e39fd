import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import { hostError } from '../salt/host-error.js';
import type { HostResult } from '../salt/normalise-result.js';
import { runBatched, type HostCall } from '../salt/run-batched.js';
import type { SaltClient } from '../salt/salt-client.js';
import { argsFormFor, buildScriptCall, type ArgsForm } from './build-script-call.js';
import { formatDetail } from './format-detail.js';
import type { MinionVersions } from './minion-versions.js';
import type { ScriptStep } from './plan-scripts.js';
import { runScriptRounds, type ScriptJob } from './run-script-rounds.js';
import { ScriptSources } from './script-sources.js';

export interface HostScriptSettings {
  /** Default seconds before a script is killed (SCRIPT_TIMEOUT_S). */
  timeoutS: number;
  /** Cap of an item's detail (SCRIPT_OUTPUT_MAX_CHARS). */
  outputMaxChars: number;
  /** Bucket and key prefix where inline scripts are staged (S3_BUCKET, SCRIPT_TEMP_PREFIX). */
  bucket: string | undefined;
  tempPrefix: string;
  presignExpiresS: number;
}

/** The clients and settings of the host-script operations over salt. */
export interface HostScriptDeps {
  salt: () => SaltClient;
  store: () => ArtifactStore;
  versions: MinionVersions;
  settings: HostScriptSettings;
}

/** What one host's scripts produced (a type, not an interface: operation outputs must be assignable to Record<string, unknown>). */
export type ScriptOutput = {
  target: string;
  /** The script's exit code (124: killed by its timeout; 126: could not be started). */
  retCode: number;
  /** stdout then stderr; several scripts: "script <i> result: <out>" joined with " | "; capped. */
  detail: string;
};

const needsArgsForm = (steps: readonly ScriptStep[]) => steps.some((s) => s.source.kind !== 'local' && s.args.length > 0);

/** Scripts to run on one host: the typed input of runScripts (apply-deployment and releases call it too). */
export interface ScriptsRequest {
  host: string;
  /** In order; the first failure stops the rest (planScripts makes them). */
  steps: readonly ScriptStep[];
  /** The account the scripts run as (validated by the caller: runAsField, deploy-plan's AppUser). */
  runAs: string;
  timeoutS: number;
}

/**
 * Runs each host's scripts in order, stopping at its first failure; the k-th scripts of all hosts go to
 * salt together (runBatched), so the same script on N hosts is one job. One outcome per request, with the
 * real exit code in retCode and the capped output in detail.
 */
export async function runScripts(deps: HostScriptDeps, requests: readonly ScriptsRequest[], ctx: RunContext): Promise<ItemOutcome<ScriptOutput>[]> {
  const { settings } = deps;
  const sources = new ScriptSources({
    store: deps.store(),
    bucket: settings.bucket,
    tempPrefix: settings.tempPrefix,
    presignExpiresS: settings.presignExpiresS,
    logger: ctx.logger,
    signal: ctx.signal,
  });
  const outcomes = new Array<ItemOutcome<ScriptOutput> | undefined>(requests.length);

  // One quick test.version on the hosts not seen lately (cached): cmd.script takes args differently
  // across salt versions; a host that does not answer it fails here, before any script job.
  const withSteps = requests.filter((r) => r.steps.length > 0).map((r) => r.host);
  const versions = withSteps.length ? await deps.versions.of(withSteps, ctx.signal) : new Map<string, string | HostResult>();
  const jobs: ScriptJob[] = [];
  const jobIndex: number[] = [];
  requests.forEach(({ host, steps, runAs, timeoutS }, i) => {
    const version = versions.get(host);
    if (steps.length > 0 && typeof version !== 'string') {
      const error = version ? hostError(version) : new Error(`no version for ${host}`);
      outcomes[i] = { ok: false, error, output: { target: host, retCode: 1, detail: '' } };
      return;
    }
    const argsForm: ArgsForm | undefined = needsArgsForm(steps) ? argsFormFor(version as string) : undefined;
    jobs.push({ host, steps: [...steps], runAs, timeoutS, argsForm });
    jobIndex.push(i);
  });

  const maxTimeoutS = Math.max(1, ...jobs.map((j) => j.timeoutS));
  try {
    const results = await runScriptRounds(jobs, {
      buildCall: async (job, step, variant) => {
        const sourceUrl = step.source.kind === 'local' ? undefined : await sources.url(step.source, variant);
        // the minion's own user (root) needs no `runas`: salt would `su -` for the login environment
        const runAs = deps.versions.userOf(job.host) === job.runAs ? undefined : job.runAs;
        return buildScriptCall(step, { runAs, timeoutS: job.timeoutS, argsForm: job.argsForm, ...(sourceUrl && { sourceUrl }) });
      },
      runRound: (calls: HostCall[]) =>
        runBatched(
          deps.salt(),
          calls.map((c): HostCall => ({ ...c, timeout: 5, gatherJobTimeout: 10 })),
          {
            // The script's own timeout kwarg kills it; the deadline only has to outlast that.
            deadlineMs: Date.now() + (maxTimeoutS + 60) * 1000,
            signal: ctx.signal,
            onProgress: (done, total) => ctx.logger.debug('script round progress', { done, total }),
          },
        ),
    });
    results.forEach((r, k) => {
      const i = jobIndex[k]!;
      const output = { target: requests[i]!.host, retCode: r.retCode, detail: formatDetail(r.outputs, settings.outputMaxChars) };
      outcomes[i] = r.ok ? { ok: true, output } : { ok: false, error: r.error, output };
    });
  } finally {
    await sources.cleanup();
  }
  return outcomes.map((o) => o!);
}
