/**
 * `state.high` data: several salt states run as ONE job on a minion, in order, with requisites. It is how
 * an operation that needs several steps on a host (copy, unpack, merge, clean up) makes one round-trip and
 * stops at the first failure, with every argument passed as structured data (never a shell string).
 * `state.single` cannot be used for states with an `opts` argument (mount.mounted): it clashes with salt's own.
 */

/** One state of a high-data run. */
export interface StateStep {
  /** Unique, human-readable id (it appears in failure messages). */
  id: string;
  /** `<module>.<function>` of the state, e.g. `file.managed`. */
  state: string;
  args: Record<string, unknown>;
  /** Ids of steps that must have succeeded first; when one failed this step is not run. */
  require?: string[];
  /** Runs only if one of these steps failed (roll-back steps). */
  onfail?: string[];
  /** Runs last whatever happened before (clean-up steps). */
  last?: boolean;
}

const SLS = 'wecube-plugin';

/** Builds `state.high` data from steps; steps run in the order given (explicit `order`). */
export function highData(steps: readonly StateStep[]): Record<string, unknown> {
  const modules = new Map(steps.map((s) => [s.id, s.state.slice(0, s.state.indexOf('.'))]));
  const high: Record<string, unknown> = {};
  steps.forEach((step, index) => {
    if (high[step.id]) throw new Error(`highData: duplicate state id ${step.id}`);
    const dot = step.state.indexOf('.');
    if (dot < 1) throw new Error(`highData: bad state ${step.state}`);
    const args: Array<Record<string, unknown>> = Object.entries(step.args)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ({ [k]: v }));
    if (step.require?.length) {
      args.push({ require: step.require.map((id) => ({ [modules.get(id) ?? 'file']: id })) });
    }
    if (step.onfail?.length) {
      args.push({ onfail: step.onfail.map((id) => ({ [modules.get(id) ?? 'file']: id })) });
    }
    args.push({ order: step.last ? 'last' : index + 1 });
    high[step.id] = { [step.state.slice(0, dot)]: [step.state.slice(dot + 1), ...args], __env__: 'base', __sls__: SLS };
  });
  return high;
}

/** One state's outcome, from a `state.high` return. */
export interface StateOutcome {
  id: string;
  result: boolean | null;
  comment: string;
  changes: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The states of a `state.high` return in the order they ran; [] for anything else. */
export function stateOutcomes(ret: unknown): StateOutcome[] {
  if (!isObject(ret)) return [];
  return Object.entries(ret)
    .filter(([key, v]) => key.includes('_|-') && isObject(v))
    .map(([key, v]) => {
      const s = v as Record<string, unknown>;
      return {
        id: String(s['__id__'] ?? key.split('_|-')[1]),
        result: s['result'] === true ? true : s['result'] === null ? null : false,
        comment: typeof s['comment'] === 'string' ? s['comment'] : String(s['comment'] ?? ''),
        changes: isObject(s['changes']) ? s['changes'] : {},
        run: typeof s['__run_num__'] === 'number' ? s['__run_num__'] : 0,
      };
    })
    .sort((a, b) => a.run - b.run)
    .map(({ run: _run, ...outcome }) => outcome);
}

/** Whether any state of a `state.high` return changed something on the host. */
export const anyChanges = (ret: unknown): boolean => stateOutcomes(ret).some((s) => Object.keys(s.changes).length > 0);

/**
 * The first state that failed for a reason of its own (not "a requisite failed"), as `<id>: <comment>`,
 * with presigned URL signatures cut out; undefined when every state succeeded.
 */
export function firstFailure(ret: unknown): string | undefined {
  const failed = stateOutcomes(ret).filter((s) => s.result === false);
  const own = failed.find((s) => !/requisite failed/i.test(s.comment)) ?? failed[0];
  if (!own) return undefined;
  // A cmd.run state (the write guard) says why in its stderr; its comment only says the command ran.
  const stderr = typeof own.changes['stderr'] === 'string' ? own.changes['stderr'].trim() : '';
  const why = stderr ? `${stderr.split('\n').pop()}` : own.comment;
  return `${own.id}: ${stripSignatures(why).slice(0, 500)}`;
}

/** Removes the query of presigned S3 URLs from a text (a short-lived credential has no place in a message). */
export const stripSignatures = (text: string): string => text.replace(/\?X-Amz-[^\s'",):]*/g, '?<presigned>');
