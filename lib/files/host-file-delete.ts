import { z } from 'zod';
import { applySteps, stepsError } from '../salt/apply-steps.js';
import { hostError } from '../salt/host-error.js';
import { runBatched } from '../salt/run-batched.js';
import { commonFields, looseString, requiredString, safeToken } from '../input/fields.js';
import { defineOperation, type ItemOutcome } from '../wecube/operation.js';
import { confineResolved, deleteSteps, pathsToResolve, planDelete, type DeleteEntry, type DeletePlan } from './delete-plan.js';
import { batchOptions, type HostDeps } from './deps.js';

const input = z.object({
  ...commonFields,
  host: safeToken('host'),
  baseDir: looseString(),
  targetPath: requiredString(),
});

const output = z.object({ detail: z.string().describe('what was removed; on failure, what could not be') });
type DeleteOutput = z.output<typeof output>;

/** `realpath -m -z` output: NUL-separated canonical paths. */
const splitNul = (stdout: string) => stdout.split('\0').filter((p) => p !== '');

const describe = (entries: readonly DeleteEntry[]) => entries.map((e) => (e.contentsOnly ? `emptied ${e.path}/` : `removed ${e.path}`)).join('; ');

/**
 * host-file/delete: paths (or, with a trailing `/`, a directory's contents) removed on a host. Two jobs
 * per item: `realpath` (argv, no shell) so that a symbolic link cannot carry a deletion out of baseDir or
 * up to a top-level directory, then the deletions as states, stopping at the first failure.
 */
export const hostFileDelete = (deps: HostDeps) =>
  defineOperation({
    plugin: 'host-file',
    action: 'delete',
    summary: 'Delete paths on a host (trailing / = contents only), confined to baseDir when given; refuses /, .., top-level dirs',
    input,
    output,
    run: async (items, ctx): Promise<ItemOutcome<DeleteOutput>[]> => {
      const outcomes = new Array<ItemOutcome<DeleteOutput>>(items.length);
      const plans: Array<{ index: number; plan: DeletePlan }> = [];
      items.forEach((item, index) => {
        try {
          plans.push({ index, plan: planDelete(item.targetPath, item.baseDir) });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });

      const resolved = await runBatched(
        deps.salt(),
        plans.map(({ index, plan }) => ({
          host: items[index]!.host,
          fun: 'cmd.run_all',
          arg: [['realpath', '-m', '-z', '--', ...pathsToResolve(plan)]],
          kwarg: { python_shell: false, timeout: 30 },
        })),
        batchOptions(deps, ctx),
      );

      const deletions: Array<{ index: number; host: string; entries: DeleteEntry[] }> = [];
      resolved.forEach((result, i) => {
        const { index, plan } = plans[i]!;
        if (!result.ok) {
          outcomes[index] = { ok: false, error: hostError(result) };
          return;
        }
        try {
          deletions.push({ index, host: result.host, entries: confineResolved(plan, splitNul(result.stdout)) });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });

      const results = await applySteps(
        deps.salt(),
        deletions.map(({ host, entries }) => ({ host, steps: deleteSteps(entries) })),
        batchOptions(deps, ctx),
      );
      results.forEach((result, i) => {
        const { index, host, entries } = deletions[i]!;
        if (result.ok) {
          ctx.logger.info('paths deleted', { host, paths: entries.length });
          outcomes[index] = { ok: true, output: { detail: describe(entries) } };
        } else {
          outcomes[index] = { ok: false, error: stepsError(result, `Delete on ${host}`) };
        }
      });
      return outcomes;
    },
  });
