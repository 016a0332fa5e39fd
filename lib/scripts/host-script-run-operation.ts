import { z } from 'zod';
import { commonFields, looseString } from '../input/fields.js';
import { defineOperation, type RunContext } from '../wecube/operation.js';
import { hostField } from '../input/server-fields.js';
import { runScripts, type HostScriptDeps } from './host-script-run.js';
import { planScripts, type EndpointType, type ScriptStep } from './plan-scripts.js';
import { argsField, endpointTypeField, runAsField, timeoutField, workDirField } from './script-fields.js';

export type ScriptAction = 'run' | 'run-local' | 'run-s3' | 'run-user-param';

/** register.xml fills endpointType per action; a caller that leaves it out gets the action's type. */
const ACTION_TYPE: Record<ScriptAction, EndpointType | undefined> = {
  run: undefined,
  'run-local': 'LOCAL',
  'run-s3': 'S3',
  'run-user-param': 'USER_PARAM',
};

/** The fields of a script item shared by run* and ssh-run. */
export const scriptFields = (action: ScriptAction | 'ssh-run', defaultTimeoutS?: number) => ({
  ...commonFields,
  endpointType: endpointTypeField(action === 'ssh-run' ? undefined : ACTION_TYPE[action]),
  endpoint: looseString(),
  scriptContent: looseString(),
  target: hostField(),
  runAs: runAsField(),
  args: argsField(),
  workDir: workDirField(),
  timeout: timeoutField(defaultTimeoutS),
});

type ScriptItemFields = {
  endpointType: EndpointType;
  endpoint?: string | undefined;
  scriptContent?: string | undefined;
  args: string[];
  workDir?: string | undefined;
};

/** The item's scripts; validation already proved that planning succeeds. */
export const stepsOf = (item: ScriptItemFields): ScriptStep[] => {
  const plan = planScripts({ ...item, endpoint: item.endpoint, scriptContent: item.scriptContent, workDir: item.workDir });
  if ('field' in plan) throw new Error(`unplannable item passed validation: ${plan.message}`);
  return plan;
};

/** Refines a script item schema: the endpoint / scriptContent must plan into scripts. */
export const planRefinement = (item: ScriptItemFields, ctx: z.RefinementCtx) => {
  const plan = planScripts({ ...item, endpoint: item.endpoint, scriptContent: item.scriptContent, workDir: item.workDir });
  if ('field' in plan) ctx.addIssue({ code: 'custom', path: [plan.field], message: plan.message });
};

/** The output of host-script/run* (runScripts' ScriptOutput), which ssh-run extends. */
export const scriptOutput = z.object({
  target: z.string(),
  retCode: z.number().int().describe("the script's exit code (124: killed by its timeout; 126: could not be started)"),
  detail: z.string().describe('stdout then stderr; several scripts: "script <i> result: <out>" joined with " | "; capped'),
});
/**
 * host-script/run, run-local, run-s3, run-user-param over salt (runScripts): the WeCube adapter, whose
 * schema plans each item's scripts.
 */
export const hostScriptRun = (deps: HostScriptDeps, action: ScriptAction) => {
  const input = z.object(scriptFields(action)).superRefine(planRefinement);
  return defineOperation({
    plugin: 'host-script',
    action,
    summary:
      action === 'run'
        ? 'Run scripts on hosts through salt: LOCAL paths, S3 objects or inline content, as a user, with args and workDir'
        : `Run ${ACTION_TYPE[action]} scripts on hosts through salt (endpointType defaults to ${ACTION_TYPE[action]})`,
    input,
    output: scriptOutput,
    run: (items, ctx: RunContext) =>
      runScripts(
        deps,
        items.map((item) => ({ host: item.target, steps: stepsOf(item), runAs: item.runAs.user, timeoutS: item.timeout ?? deps.settings.timeoutS })),
        ctx,
      ),
  });
};
