import { randomBytes } from 'node:crypto';
import type { ArchiveFormat } from '../artifacts/package-name.js';
import { archiveType } from '../artifacts/package-name.js';
import { normalisedRef, readPackage } from '../artifacts/normalise-package.js';
import { baseName, parseEndpoint, type ObjectRef } from '../artifacts/parse-endpoint.js';
import { replacePackageVariables, type ReplaceRequest } from '../artifacts/package-variable-replace.js';
import { InputError, JobTimeoutError, publicMessage } from '../errors.js';
import { copySteps, md5Detail } from '../files/copy-states.js';
import { copyFiles } from '../files/host-file-copy.js';
import { findFiles } from '../files/host-file-find.js';
import type { Runtime } from '../runtime-types.js';
import { applySteps, stepsError } from '../salt/apply-steps.js';
import { firstFailure, highData, type StateStep } from '../salt/high-data.js';
import { hostError } from '../salt/host-error.js';
import { normaliseHostReturn, unanswered, unknownMinion, type HostResult } from '../salt/normalise-result.js';
import { runBatched } from '../salt/run-batched.js';
import { runScripts, type HostScriptDeps, type ScriptsRequest } from '../scripts/host-script-run.js';
import { planScripts } from '../scripts/plan-scripts.js';
import { shellWords } from '../scripts/shell-quote.js';
import { hostScriptDeps } from '../scripts/script-deps.js';
import { addUsers, type AddUserRequest } from '../users/host-users.js';
import { parsePathList } from '../users/user-request.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import type { AppUser, InstallDir } from './deploy-plan.js';
import { commitStep, restoreCall, snapshotStep } from './install-steps.js';

/** How long a distribution may run before each check also asks the host whether it still runs the job. */
const LIVENESS_AFTER_MS = 20_000;

/** A package ready to be fetched by hosts: where it is and what the handler read of it. */
export interface PackageFacts {
  ref: ObjectRef;
  /** The archive's file name (it is placed in the install directory, then unpacked there). */
  name: string;
  format: ArchiveFormat;
  md5: string;
  sha256: string;
  topLevel: string[];
  /** The normalised tar.gz hosts unpack (readPackage), and its sha256. */
  unpack: { ref: ObjectRef; sha256: string };
}

export interface UserRequest {
  host: string;
  guid: string;
  user: AppUser;
  password?: string | undefined;
  seed?: string | undefined;
  rwDir?: string | undefined;
  rwFile?: string | undefined;
}

export interface ScriptRequest {
  host: string;
  /** Absolute script paths, `,`-joined (run in order, stop at the first failure). */
  script: string;
  user: string;
  args?: string | undefined;
}

export interface ScriptResult {
  retCode: number;
  detail: string;
}

export interface DistributeRequest {
  host: string;
  dir: InstallDir;
  clear: readonly string[];
  pkg: PackageFacts;
  owner: AppUser;
}

/**
 * The error of a failed distribution job. salt's module.run drops the output of a failed `cmd.run_all`
 * ("(error message N/A)"), so a failed snapshot state is explained from what its script refuses.
 */
function distributionError(result: HostResult, req: DistributeRequest): Error {
  const what = `Copy of ${req.pkg.ref.url} to ${req.dir.path}`;
  const error = stepsError(result, what);
  if (!unanswered(result) && firstFailure(result.ret)?.startsWith('snapshot:')) {
    error.message =
      `${what} failed on ${result.host}: snapshot: keeping the previous install as ${req.dir.snapshot} or clearing clearPath failed ` +
      `(${req.dir.path} is not a directory, a clearPath entry leaves ${req.dir.path} through a symlink, or no space/permission)`;
  }
  return error;
}

/**
 * Runs one step over a list: a failure of the whole batch (salt-api or S3 down) becomes each request's
 * failure, so that the caller can still tell, and undo, what every host went through.
 */
export async function stepFor<R, T>(reqs: readonly R[], run: (reqs: readonly R[]) => Promise<ItemOutcome<T>[]>): Promise<ItemOutcome<T>[]> {
  if (!reqs.length) return [];
  try {
    return await run(reqs);
  } catch (error) {
    return reqs.map(() => ({ ok: false, error }));
  }
}

/** What putting a failed host back has to undo, as its deployment got. */
export interface PutBackRequest {
  host: string;
  dir: InstallDir;
  user: string;
  /** The new version was started: stop it with this script first (when one is known). */
  stopNew?: string | undefined;
  /** The install directory was touched: restore its snapshot. */
  restore: boolean;
  /** The previous version was stopped: start it again (once its files are back). */
  startOld?: { script: string; args?: string | undefined } | undefined;
}

/** How a host was put back: what was done, in order, and the first failure that left it changed. */
export interface PutBackResult {
  ok: boolean;
  notes: string[];
  error?: Error;
}

/** The error of a failed outcome, as an Error. */
export const outcomeError = (outcome: ItemOutcome<unknown>): Error =>
  !outcome.ok ? (outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error))) : new Error('not a failure');

/**
 * The steps of an application deployment on hosts, each over a list of hosts so that one step on N hosts
 * is one salt job (apply-deployment) and usable on one host at a time (a release's Step Functions tasks).
 * Built from the host operations' own cores: host-user/add, host-script/run-local, host-file/copy and find.
 */
export class HostSteps {
  private readonly scripts: HostScriptDeps;

  constructor(private readonly rt: Runtime) {
    this.scripts = hostScriptDeps(rt);
  }

  /** Creates or updates the application user on each host (host-user/add's core). */
  async ensureUsers(reqs: readonly UserRequest[], ctx: RunContext) {
    const requests: AddUserRequest[] = [];
    const refused = new Map<number, unknown>();
    reqs.forEach((r, i) => {
      try {
        const { host, guid, user, password, seed } = r;
        requests.push({
          host,
          guid,
          user: user.user,
          group: user.group,
          password,
          seed,
          rwDirs: parsePathList(r.rwDir, 'rwDir', host),
          rwFiles: parsePathList(r.rwFile, 'rwFile', host),
        });
      } catch (error) {
        refused.set(i, error);
      }
    });
    const added = await addUsers(this.rt, requests, ctx);
    let next = 0;
    return reqs.map((_, i) => (refused.has(i) ? { ok: false as const, error: refused.get(i) } : added[next++]!));
  }

  /** Runs on-host scripts as the application user (host-script's core): real exit codes, capped output. */
  async runScripts(reqs: readonly ScriptRequest[], ctx: RunContext): Promise<ItemOutcome<ScriptResult>[]> {
    const requests: ScriptsRequest[] = [];
    const refused = new Map<number, Error>();
    reqs.forEach((r, i) => {
      const args = r.args?.trim() ? shellWords(r.args) : [];
      const plan =
        typeof args === 'string'
          ? { field: 'args', message: args }
          : planScripts({ endpointType: 'LOCAL', endpoint: r.script, scriptContent: undefined, args, workDir: undefined });
      if ('field' in plan) refused.set(i, new InputError(`Parameter ${plan.field} validation failed: ${plan.message}`));
      else requests.push({ host: r.host, steps: plan, runAs: r.user, timeoutS: this.scripts.settings.timeoutS });
    });
    const ran = await runScripts(this.scripts, requests, ctx);
    let next = 0;
    return reqs.map((_, i): ItemOutcome<ScriptResult> => {
      const error = refused.get(i);
      if (error) return { ok: false, error, output: { retCode: 1, detail: '' } };
      const o = ran[next++]!;
      const out = { retCode: o.output?.retCode ?? 1, detail: o.output?.detail ?? '' };
      return o.ok ? { ok: true, output: out } : { ok: false, error: o.error, output: out };
    });
  }

  /** The states of a distribution: snapshot + clear, fetch the package (sha256 checked), unpack, own. */
  async distributeStates(req: DistributeRequest): Promise<StateStep[]> {
    const store = this.rt.store();
    const expires = this.rt.config.s3.presignExpiresS;
    const [url, unpackUrl] = await Promise.all([store.presignGet(req.pkg.ref, expires), store.presignGet(req.pkg.unpack.ref, expires)]);
    const copy = copySteps({
      destination: `${req.dir.path}/${req.pkg.name}`,
      source: url,
      sha256: req.pkg.sha256,
      owner: { user: req.owner.user, group: req.owner.group },
      unpack: {
        source: unpackUrl,
        sha256: req.pkg.unpack.sha256,
        topLevel: req.pkg.topLevel,
        stagingName: `.saltstack-unpack-${randomBytes(6).toString('hex')}`,
      },
    });
    // The guard looks at the install dir before the snapshot touches it; the copy waits for both.
    const [guard, ...rest] = copy;
    return [
      guard!,
      { ...snapshotStep(req.dir, req.clear), require: [guard!.id] },
      ...rest.map((s) => (s.id === 'copy' ? { ...s, require: [guard!.id, 'snapshot'] } : s)),
    ];
  }

  /** Distributes packages and waits (apply-deployment); output: upstream's md5 `detail`. */
  async distribute(reqs: readonly DistributeRequest[], ctx: RunContext): Promise<ItemOutcome<{ detail: string }>[]> {
    const calls = await Promise.all(reqs.map(async (r) => ({ host: r.host, steps: await this.distributeStates(r) })));
    const results = await applySteps(this.rt.salt(), calls, this.batch(ctx, true));
    return results.map((result, i) =>
      result.ok ? { ok: true, output: { detail: md5Detail(result.host, reqs[i]!.pkg.md5) } } : { ok: false, error: distributionError(result, reqs[i]!) },
    );
  }

  /** Starts a distribution as an async salt job and returns its jid (a release polls it with checkDistribute). */
  async submitDistribute(req: DistributeRequest, ctx: RunContext): Promise<string> {
    const steps = await this.distributeStates(req);
    const [job] = await this.rt
      .salt()
      .localAsync([{ fun: 'state.high', arg: [highData(steps)], kwarg: { queue: true }, tgt: [req.host] }], { signal: ctx.signal });
    if (!job!.minions.includes(req.host)) {
      throw hostError(unknownMinion(req.host));
    }
    return job!.jid;
  }

  /**
   * One look at a distribution job: not finished yet, or its outcome (throws JobFailedError with the failed
   * state, TargetNoReturnError when the host stopped answering, JobTimeoutError past `deadlineMs`).
   */
  async checkDistribute(
    jid: string,
    req: DistributeRequest,
    since: { startedMs: number; deadlineMs: number },
    ctx: RunContext,
  ): Promise<{ done: boolean; detail?: string }> {
    const salt = this.rt.salt();
    const status = await salt.jobStatus(jid, ctx.signal);
    if (!(req.host in status.results)) {
      const now = Date.now();
      if (now >= since.deadlineMs) throw new JobTimeoutError(`Distribution to ${req.host} did not finish before its deadline (job ${jid})`, jid);
      // After a while, make sure the host still runs it: a stopped minion is reported now, not at the deadline.
      if (now - since.startedMs > LIVENESS_AFTER_MS) {
        const [probe] = await salt.local({ fun: 'saltutil.find_job', arg: [jid], tgt: [req.host], timeout: 5, gatherJobTimeout: 5 }, { signal: ctx.signal });
        if (probe && !probe.ok && probe.error === 'NO_RETURN') {
          throw hostError({ ...probe, message: `Minion ${req.host} stopped answering during the distribution (job ${jid})` });
        }
      }
      return { done: false };
    }
    const result = normaliseHostReturn(req.host, status.results[req.host]);
    if (!result.ok) throw distributionError(result, req);
    return { done: true, detail: md5Detail(req.host, req.pkg.md5) };
  }

  /**
   * Puts each host's install directory back as it was before the distribution: the snapshot replaces it,
   * or, when there was no install, the directory is removed. Output: what was done.
   */
  async restore(reqs: ReadonlyArray<{ host: string; dir: InstallDir }>, ctx: RunContext): Promise<ItemOutcome<{ detail: string }>[]> {
    const results = await runBatched(
      this.rt.salt(),
      reqs.map((r) => ({ host: r.host, fun: 'cmd.run_all', ...restoreCall(r.dir) })),
      this.batch(ctx),
    );
    return results.map((r) => (r.ok ? { ok: true, output: { detail: r.stdout.trim() } } : { ok: false, error: hostError(r) }));
  }

  /**
   * Puts failed hosts back, each step for all of them at once: stop the new version (best effort), restore
   * the snapshot, start the previous version (only where its files are back). A failed restore or restart
   * leaves the host changed (`ok: false`, with the error).
   */
  async putBack(reqs: readonly PutBackRequest[], ctx: RunContext): Promise<PutBackResult[]> {
    const results = reqs.map((): PutBackResult => ({ ok: true, notes: [] }));
    const each = <R>(picked: number[], run: (reqs: readonly R[]) => Promise<ItemOutcome<{ detail?: string }>[]>, make: (i: number) => R) =>
      stepFor(picked.map(make), run).then((outcomes) => outcomes.map((o, k) => ({ i: picked[k]!, o })));
    const indexes = (keep: (r: PutBackRequest, i: number) => boolean) => reqs.flatMap((r, i) => (keep(r, i) ? [i] : []));

    for (const { i, o } of await each(
      indexes((r) => !!r.stopNew),
      (rs: readonly ScriptRequest[]) => this.runScripts(rs, ctx),
      (i) => ({ host: reqs[i]!.host, script: reqs[i]!.stopNew!, user: reqs[i]!.user }),
    )) {
      results[i]!.notes.push(o.ok ? 'new version stopped' : `stopping the new version failed (${publicMessage(outcomeError(o))})`);
    }
    for (const { i, o } of await each(
      indexes((r) => r.restore),
      (rs: ReadonlyArray<{ host: string; dir: InstallDir }>) => this.restore(rs, ctx),
      (i) => ({ host: reqs[i]!.host, dir: reqs[i]!.dir }),
    )) {
      if (o.ok) results[i]!.notes.push(o.output.detail ?? '');
      else
        Object.assign(results[i]!, { ok: false, error: outcomeError(o) }).notes.push(
          `RESTORE FAILED (${publicMessage(outcomeError(o))}): the host is left changed`,
        );
    }
    const restart = indexes((r, i) => !!r.startOld && results[i]!.ok);
    for (const { i, o } of await each(
      restart,
      (rs: readonly ScriptRequest[]) => this.runScripts(rs, ctx),
      (i) => ({ host: reqs[i]!.host, script: reqs[i]!.startOld!.script, user: reqs[i]!.user, args: reqs[i]!.startOld!.args }),
    )) {
      if (o.ok) results[i]!.notes.push('previous version started');
      else
        Object.assign(results[i]!, { ok: false, error: outcomeError(o) }).notes.push(
          `starting the previous version failed (${publicMessage(outcomeError(o))})`,
        );
    }
    return results;
  }

  /** Drops the snapshots once the new version runs. */
  async commit(reqs: ReadonlyArray<{ host: string; dir: InstallDir }>, ctx: RunContext): Promise<ItemOutcome<{ detail: string }>[]> {
    const results = await applySteps(
      this.rt.salt(),
      reqs.map((r) => ({ host: r.host, steps: [commitStep(r.dir)] })),
      this.batch(ctx),
    );
    return results.map((r, i) =>
      r.ok ? { ok: true, output: { detail: `dropped ${reqs[i]!.dir.snapshot}` } } : { ok: false, error: stepsError(r, 'Dropping the snapshot') },
    );
  }

  /** Removes install directories (apply-deployment/delete) with their snapshots. */
  async removeInstall(reqs: ReadonlyArray<{ host: string; dir: InstallDir }>, ctx: RunContext): Promise<ItemOutcome<{ detail: string }>[]> {
    const results = await applySteps(
      this.rt.salt(),
      reqs.map((r) => ({
        host: r.host,
        steps: [
          { id: 'remove install', state: 'file.absent', args: { name: r.dir.path } },
          { id: 'remove snapshot', state: 'file.absent', args: { name: r.dir.snapshot } },
        ],
      })),
      this.batch(ctx),
    );
    return results.map((r, i) =>
      r.ok ? { ok: true, output: { detail: `removed ${reqs[i]!.dir.path}` } } : { ok: false, error: stepsError(r, `Removing ${reqs[i]!.dir.path}`) },
    );
  }

  /** Copies a sign file (no unpack) owned by the application user (host-file/copy's core). */
  copyFiles(reqs: ReadonlyArray<{ host: string; endpoint: string; destination: string; owner: AppUser }>, ctx: RunContext) {
    return copyFiles(
      this.rt,
      reqs.map((r) => ({
        target: r.host,
        endpoint: r.endpoint,
        destinationPath: r.destination,
        unpack: false,
        fileOwner: { user: r.owner.user, group: r.owner.group },
      })),
      ctx,
    );
  }

  /** Upstream's log-file lookups: a glob under the install directory, `,`-joined; '' when nothing or on error. */
  async findFiles(reqs: ReadonlyArray<{ host: string; dir: InstallDir; pattern: string }>, ctx: RunContext): Promise<string[]> {
    if (!reqs.length) return [];
    const outcomes = await findFiles(
      this.rt,
      reqs.map((r) => ({ target: r.host, filePath: r.dir.path, filePattern: r.pattern })),
      ctx,
    );
    return outcomes.map((o) => (o.ok ? o.output.files : ''));
  }

  /**
   * Batch options: the job deadline, and `forceAsync` for the distribution (a large package outlasts any
   * HTTP request). The short steps (restore, drop, remove) go as one synchronous call when they are one
   * job: an async job is only seen done at its next poll, which costs more than the step itself.
   */
  private batch(ctx: RunContext, forceAsync = false) {
    return { deadlineMs: Date.now() + this.rt.config.salt.jobTimeoutS * 1000, signal: ctx.signal, forceAsync };
  }
}

/**
 * A package ready for hosts: its conf files substituted when asked (package-variable/replace, the result
 * uploaded to the artifact bucket), then read once (md5, sha256, every entry judged, top-level names) and
 * re-written as the normalised tar.gz hosts unpack (removed by the caller with `dropPackage` when done).
 */
export async function preparePackage(
  rt: Runtime,
  request: ReplaceRequest,
  ctx: RunContext,
): Promise<{ s3PkgPath: string; facts: PackageFacts; unresolved: string[] }> {
  const replaced = request.confFiles?.trim()
    ? await replacePackageVariables(request, { config: rt.config, store: rt.store }, ctx)
    : { s3PkgPath: request.endpoint, unresolvedVariables: [] };
  const ref = parseEndpoint(replaced.s3PkgPath);
  const name = baseName(ref);
  const type = archiveType(name);
  if (!type) throw new InputError(`File ${name.toLowerCase()} is illegal to be recognized as a compressed file type`);
  const facts = await readPackage(rt.store(), ref, {
    format: type.format,
    archive: name,
    normaliseTo: normalisedRef(ref, rt.config.s3.bucket),
    signal: ctx.signal,
  });
  ctx.logger.info('package prepared', { endpoint: ref.url, size: facts.size, entries: facts.entries });
  const unpack = facts.normalised!;
  return {
    s3PkgPath: replaced.s3PkgPath,
    facts: {
      ref: { bucket: ref.bucket, key: ref.key, url: ref.url },
      name,
      format: type.format,
      md5: facts.md5,
      sha256: facts.sha256,
      topLevel: facts.topLevel ?? [],
      unpack: { ref: { bucket: unpack.ref.bucket, key: unpack.ref.key, url: unpack.ref.url }, sha256: unpack.sha256 },
    },
    unresolved: replaced.unresolvedVariables.map((v) => v.key),
  };
}

/** Removes the normalised archive of a prepared package (best effort: a bucket lifecycle rule expires any left). */
export async function dropPackage(rt: Runtime, pkg: PackageFacts | undefined): Promise<void> {
  if (pkg?.unpack)
    await rt
      .store()
      .remove(pkg.unpack.ref)
      .catch(() => undefined);
}
