import { z } from 'zod';
import { publicMessage } from '../errors.js';
import type { Runtime } from '../runtime-types.js';
import { commonFields, EMPTY, looseString, requiredString, safeToken } from '../input/fields.js';
import { defineOperation, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { clearPaths, parseAppUser, parseInstallDir, scriptPaths, signFilePath, type AppUser, type InstallDir } from './deploy-plan.js';
import { dropPackage, HostSteps, outcomeError, preparePackage, stepFor, type PackageFacts } from './host-steps.js';

const LOG_FIELDS = ['logFileTrade', 'logFileTrace', 'logFileMetric', 'logFileKeyword'] as const;
type LogField = (typeof LOG_FIELDS)[number];
const logFields = Object.fromEntries(LOG_FIELDS.map((f) => [f, looseString()])) as Record<LogField, ReturnType<typeof looseString>>;

const packageFields = {
  confFiles: looseString(),
  variableList: looseString(),
  args: looseString(),
  seed: looseString(),
  appPublicKey: looseString(),
  sysPrivateKey: looseString(),
  signFileSrc: looseString(),
  signFileDst: looseString(),
  ...logFields,
};

/** Required fields checked after the field-level ones, in upstream's order and under upstream's names. */
const requireInOrder = (fields: ReadonlyArray<[key: string, reportedAs: string]>) => (item: Record<string, unknown>, ctx: z.RefinementCtx) => {
  for (const [key, reportedAs] of fields) {
    const v = item[key];
    if (typeof v !== 'string' || v.trim() === '') {
      ctx.addIssue({ code: 'custom', path: [reportedAs], message: EMPTY });
      return;
    }
  }
};

// Validation order (upstream §16.4-16.6): the first missing field is the one reported.
const newInput = z
  .object({
    ...commonFields,
    endpoint: requiredString(),
    userName: requiredString(),
    target: safeToken('target'),
    startScript: looseString(),
    destinationPath: looseString(),
    password: looseString(),
    rwDir: looseString(),
    rwFile: looseString(),
    ...packageFields,
  })
  .superRefine(
    requireInOrder([
      ['startScript', 'startScript'],
      ['destinationPath', 'destinationPath'],
    ]),
  );

const updateInput = z
  .object({
    ...commonFields,
    endpoint: requiredString(),
    userName: requiredString(),
    target: safeToken('target'),
    startScript: looseString(),
    destinationPath: looseString(),
    stopScript: looseString(),
    clearPath: looseString(),
    ...packageFields,
  })
  .superRefine(
    requireInOrder([
      ['startScript', 'startScriptPath'],
      ['destinationPath', 'destinationPath'],
      ['stopScript', 'stopScriptPath'],
    ]),
  );

const deleteInput = z
  .object({
    guid: requiredString(),
    callbackParameter: looseString(),
    userName: requiredString(),
    target: safeToken('target'),
    stopScript: looseString(),
    destinationPath: looseString(),
  })
  .superRefine(
    requireInOrder([
      ['stopScript', 'stopScriptPath'],
      ['destinationPath', 'destinationPath'],
    ]),
  );

const text = (what: string) => z.string().optional().describe(what);
const logOutputs = Object.fromEntries(LOG_FIELDS.map((f) => [f, text(`files matching the ${f} glob under destinationPath, ","-joined`)]));
const deployOutput = {
  target: z.string(),
  retCode: z.number().int().optional().describe('1 on failure; the start script exit code otherwise'),
  s3PkgPath: text('the package deployed (re-packed with substituted variables when confFiles were given)'),
  fileDetail: text('{"return": [{"<target>": "<md5>"}]} of the package (or of the sign file)'),
  rollback: text('on a failure after the host was changed: what was put back ("previous version restored and started", ...)'),
  ...logOutputs,
};
const newOutput = z.object({
  ...deployOutput,
  userDetail: text('what host-user/add did'),
  password: text("the user's password, {cipher_a}-encrypted; empty when an existing user kept its own"),
  runScriptDetail: text("the start script's output"),
});
const updateOutput = z.object({
  ...deployOutput,
  runStopScriptDetail: text("the stop script's output"),
  runStartScriptDetail: text("the start script's output"),
});
type NewOutput = z.output<typeof newOutput>;
type UpdateOutput = z.output<typeof updateOutput>;

type Mode = 'new' | 'update';
type NewItem = z.output<typeof newInput>;
type UpdateItem = z.output<typeof updateInput>;

/** One item's deployment as it goes: its plan, what it has produced, and where it stopped. */
interface Track<O> {
  index: number;
  host: string;
  user: AppUser;
  dir: InstallDir;
  start: string;
  stop?: string | undefined;
  clear: string[];
  out: Partial<O> & { target: string };
  pkg?: PackageFacts;
  /** The host's files were touched (the distribution ran): a failure must restore them. */
  changed: boolean;
  /** The new version's start script ran (a failure must stop it before restoring). */
  started: boolean;
  error?: Error;
}

/** A copy of an error (same class, code and fields) with upstream's `<prefix>,<message> ` text. */
function withPrefix(prefix: string, error: unknown): Error {
  const base = error instanceof Error ? error : new Error(String(error));
  const copy = Object.assign(Object.create(Object.getPrototypeOf(base)) as Error, base);
  copy.message = `${prefix},${publicMessage(base)} `;
  copy.stack = base.stack ?? '';
  return copy;
}

const fail = (track: Track<object>, prefix: string, error: unknown) => {
  track.error = withPrefix(prefix, error);
};

/** The items still going (no failure yet). */
const live = <O>(tracks: Array<Track<O> | undefined>): Array<Track<O>> => tracks.filter((t): t is Track<O> => !!t && !t.error);

/**
 * apply-deployment/new and /update (upstream §16.4-16.5), every step batched across the request's items
 * (one salt job per step for all hosts). Unlike upstream, a failure after the host was changed puts it
 * back: the distribution keeps a snapshot of the previous install until the new version has started;
 * on failure the new version is stopped (update), the snapshot restored (or the new directory removed
 * when there was none), and the previous version started again (update). The output says what was done.
 */
async function deploy<O extends NewOutput | UpdateOutput>(
  rt: Runtime,
  steps: HostSteps,
  mode: Mode,
  items: Array<NewItem | UpdateItem>,
  ctx: RunContext,
): Promise<ItemOutcome<O>[]> {
  const outcomes = new Array<ItemOutcome<O>>(items.length);
  const tracks: Array<Track<O> | undefined> = items.map((item, index) => {
    try {
      const dir = parseInstallDir(item.destinationPath!);
      return {
        index,
        host: item.target,
        user: parseAppUser(item.userName),
        dir,
        start: scriptPaths(item.startScript!, dir, mode === 'new' ? 'startScript' : 'startScriptPath'),
        stop: mode === 'update' ? scriptPaths((item as UpdateItem).stopScript!, dir, 'stopScriptPath') : undefined,
        clear: mode === 'update' ? clearPaths((item as UpdateItem).clearPath, dir) : [],
        out: { target: item.target } as Partial<O> & { target: string },
        changed: false,
        started: false,
      };
    } catch (error) {
      outcomes[index] = { ok: false, error, output: { target: item.target, retCode: 1 } as Partial<O> };
      return undefined;
    }
  });
  const set = (t: Track<O>, values: Partial<NewOutput & UpdateOutput>) => Object.assign(t.out, values);

  // 1. the package, once per distinct request (variables substituted when confFiles are given), read,
  // judged and normalised before any host is touched: a refused or missing package creates no user and
  // stops nothing (upstream created the user and stopped the application first).
  const byPackage = new Map<string, Promise<Awaited<ReturnType<typeof preparePackage>>>>();
  await Promise.all(
    live(tracks).map(async (t) => {
      const item = items[t.index]!;
      const request = {
        guid: item.guid,
        endpoint: item.endpoint,
        confFiles: item.confFiles,
        variableList: item.variableList,
        seed: item.seed,
        appPublicKey: item.appPublicKey,
        sysPrivateKey: item.sysPrivateKey,
      };
      const key = JSON.stringify(request);
      if (!byPackage.has(key)) byPackage.set(key, preparePackage(rt, request, ctx));
      try {
        const prepared = await byPackage.get(key)!;
        t.pkg = prepared.facts;
        set(t, { s3PkgPath: prepared.s3PkgPath });
      } catch (error) {
        // Upstream's step names: the substitution when confFiles are given, otherwise the copy (which fetched it).
        const step = item.confFiles?.trim() ? 'Replace variable fail' : mode === 'new' ? 'Copy app package to target fail' : 'Copy file to target fail';
        fail(t, step, error);
      }
    }),
  );

  // 2. new: the application user; update: stop the running version (nothing changed on failure).
  if (mode === 'new') {
    const active = live(tracks);
    const users = await stepFor(
      active.map((t) => {
        const item = items[t.index] as NewItem;
        return { host: t.host, guid: item.guid ?? '', user: t.user, password: item.password, seed: item.seed, rwDir: item.rwDir, rwFile: item.rwFile };
      }),
      (reqs) => steps.ensureUsers(reqs, ctx),
    );
    users.forEach((o, i) => {
      const t = active[i]!;
      if (o.ok) set(t, { userDetail: o.output.detail, ...(o.output.password && { password: o.output.password }) });
      else fail(t, 'Create user fail', outcomeError(o));
    });
  } else {
    const active = live(tracks);
    const stopped = await stepFor(
      active.map((t) => ({ host: t.host, script: t.stop!, user: t.user.user })),
      (reqs) => steps.runScripts(reqs, ctx),
    );
    stopped.forEach((o, i) => {
      const t = active[i]!;
      set(t, { runStopScriptDetail: o.output?.detail ?? '' });
      if (!o.ok) fail(t, 'Run stop script fail', outcomeError(o));
    });
  }
  const stoppedOld = new Set(mode === 'update' ? live(tracks) : []);

  // 3. distribution: snapshot (+ clearPath), fetch, unpack, chown.
  const toCopy = live(tracks);
  const copied = await stepFor(
    toCopy.map((t) => ({ host: t.host, dir: t.dir, clear: t.clear, pkg: t.pkg!, owner: t.user })),
    (reqs) => steps.distribute(reqs, ctx),
  );
  copied.forEach((o, i) => {
    const t = toCopy[i]!;
    t.changed = true; // a failed distribution may have cleared or half-unpacked: restore whatever it did
    if (o.ok) set(t, { fileDetail: o.output.detail });
    else fail(t, mode === 'new' ? 'Copy app package to target fail' : 'Copy file to target fail', outcomeError(o));
  });
  // Every host has unpacked (or failed to): the normalised archives are not needed any more.
  await Promise.all(
    [...byPackage.values()].map((p) =>
      p.then(
        (prepared) => dropPackage(rt, prepared.facts),
        () => undefined,
      ),
    ),
  );

  // 4. the sign file, when asked.
  const signing = live(tracks).flatMap((t) => {
    const item = items[t.index]!;
    if (!item.signFileSrc?.trim() || !item.signFileDst?.trim()) return [];
    try {
      return [{ t, destination: signFilePath(item.signFileDst, t.dir), endpoint: item.signFileSrc }];
    } catch (error) {
      fail(t, "Copy app package's sign file to target fail", error);
      return [];
    }
  });
  const signed = await stepFor(
    signing.map((s) => ({ host: s.t.host, endpoint: s.endpoint, destination: s.destination, owner: s.t.user })),
    (reqs) => steps.copyFiles(reqs, ctx),
  );
  signed.forEach((o, i) => {
    const t = signing[i]!.t;
    if (o.ok) set(t, { fileDetail: o.output.detail });
    else fail(t, "Copy app package's sign file to target fail", outcomeError(o));
  });

  // 5. start the new version.
  const toStart = live(tracks);
  const started = await stepFor(
    toStart.map((t) => ({ host: t.host, script: t.start, user: t.user.user, args: items[t.index]!.args })),
    (reqs) => steps.runScripts(reqs, ctx),
  );
  started.forEach((o, i) => {
    const t = toStart[i]!;
    t.started = true;
    set(t, {
      retCode: o.output?.retCode ?? 1,
      ...(mode === 'new' ? { runScriptDetail: o.output?.detail ?? '' } : { runStartScriptDetail: o.output?.detail ?? '' }),
    });
    if (!o.ok) fail(t, 'Run start script fail', outcomeError(o));
  });

  // 6. failures after the old version was stopped or the files changed: put the host back.
  await rollBack(
    steps,
    tracks.filter((t): t is Track<O> => !!t?.error && (t.changed || stoppedOld.has(t))),
    mode,
    items,
    ctx,
  );

  // 7. success: drop the snapshots (a leftover snapshot is harmless: the next deployment replaces it).
  const done = live(tracks);
  const committed = await stepFor(
    done.map((t) => ({ host: t.host, dir: t.dir })),
    (reqs) => steps.commit(reqs, ctx),
  );
  committed.forEach((o, i) => {
    if (!o.ok) ctx.logger.warn('snapshot not dropped', { host: done[i]!.host, error: outcomeError(o) });
  });

  // 8. upstream's log-file lookups (errors ignored, as upstream).
  const lookups = done.flatMap((t) =>
    LOG_FIELDS.flatMap((field) => {
      const pattern = items[t.index]![field]?.trim();
      return pattern ? [{ t, field, pattern }] : [];
    }),
  );
  const found = await steps
    .findFiles(
      lookups.map((l) => ({ host: l.t.host, dir: l.t.dir, pattern: l.pattern })),
      ctx,
    )
    .catch(() => lookups.map(() => ''));
  found.forEach((files, i) => set(lookups[i]!.t, { [lookups[i]!.field]: files }));

  tracks.forEach((t) => {
    if (!t) return;
    outcomes[t.index] = t.error
      ? { ok: false, error: t.error, output: { ...t.out, retCode: 1 } as Partial<O> }
      : { ok: true, output: { retCode: 0, ...t.out } as unknown as O };
  });
  return outcomes;
}

/**
 * Puts failed hosts back: stops the new version (update, when it was started), restores the snapshot
 * (when the files were changed), starts the previous version (update). Appends what happened to the
 * item's error message and `rollback` output.
 */
async function rollBack<O>(steps: HostSteps, failed: Array<Track<O>>, mode: Mode, items: Array<NewItem | UpdateItem>, ctx: RunContext): Promise<void> {
  if (!failed.length) return;
  const results = await steps.putBack(
    failed.map((t) => ({
      host: t.host,
      dir: t.dir,
      user: t.user.user,
      stopNew: mode === 'update' && t.started ? t.stop : undefined,
      restore: t.changed,
      startOld: mode === 'update' ? { script: t.start, args: items[t.index]!.args } : undefined,
    })),
    ctx,
  );
  results.forEach(({ notes }, i) => {
    const t = failed[i]!;
    const rollback = notes.join('; ');
    (t.out as Record<string, unknown>)['rollback'] = rollback;
    t.error!.message = `${t.error!.message.trimEnd()}; rolled back: ${rollback}`;
    ctx.logger.warn('deployment rolled back', { host: t.host, rollback });
  });
}

/** apply-deployment/new: create the user, substitute variables, distribute and unpack, start; roll back on failure. */
export const applyDeploymentNew = (rt: Runtime) => {
  const steps = new HostSteps(rt);
  return defineOperation({
    plugin: 'apply-deployment',
    action: 'new',
    summary: 'First deployment of an application on hosts: user, package (variables substituted), unpack, start; rolled back on failure',
    input: newInput,
    output: newOutput,
    run: (items, ctx) => deploy<NewOutput>(rt, steps, 'new', items, ctx),
  });
};

/** apply-deployment/update: stop, substitute, clear, distribute, start; the previous version is restored on failure. */
export const applyDeploymentUpdate = (rt: Runtime) => {
  const steps = new HostSteps(rt);
  return defineOperation({
    plugin: 'apply-deployment',
    action: 'update',
    summary: 'Upgrade an application on hosts: stop, package (variables substituted), clearPath, unpack, start; previous version restored on failure',
    input: updateInput,
    output: updateOutput,
    run: (items, ctx) => deploy<UpdateOutput>(rt, steps, 'update', items, ctx),
  });
};

/** apply-deployment/delete: run the stop script as the user, then remove the install directory. */
export const applyDeploymentDelete = (rt: Runtime) => {
  const steps = new HostSteps(rt);
  return defineOperation({
    plugin: 'apply-deployment',
    action: 'delete',
    summary: 'Remove an application from hosts: stop script as the user, then the install directory',
    input: deleteInput,
    output: z.object({}),
    run: async (items, ctx): Promise<ItemOutcome<Record<string, never>>[]> => {
      const outcomes = new Array<ItemOutcome<Record<string, never>>>(items.length);
      const plans = items.flatMap((item, index) => {
        try {
          const dir = parseInstallDir(item.destinationPath!);
          return [{ index, host: item.target, user: parseAppUser(item.userName), dir, stop: scriptPaths(item.stopScript!, dir, 'stopScriptPath') }];
        } catch (error) {
          outcomes[index] = { ok: false, error };
          return [];
        }
      });
      const stopped = await steps.runScripts(
        plans.map((p) => ({ host: p.host, script: p.stop, user: p.user.user })),
        ctx,
      );
      const toRemove = plans.filter((p, i) => {
        const o = stopped[i]!;
        if (!o.ok) outcomes[p.index] = { ok: false, error: withPrefix('Run stop script fail', outcomeError(o)) };
        return o.ok;
      });
      (await steps.removeInstall(toRemove, ctx)).forEach((o, i) => {
        outcomes[toRemove[i]!.index] = o.ok ? { ok: true, output: {} } : { ok: false, error: outcomeError(o) };
      });
      return outcomes;
    },
  });
};
