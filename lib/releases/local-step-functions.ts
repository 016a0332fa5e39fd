import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateMachine } from 'aws-local-stepfunctions';
import { ConfigError, ReleaseExistsError, ReleaseNotFoundError } from '../errors.js';
import { executionArnOf, LOCAL_STATE_MACHINE_ARN, type ExecutionDescription, type StepFunctionsPort } from './step-functions-port.js';

/** What runs a Task state locally: the task handler of the Lambda function its resource names. */
export type LocalTaskHandler = (input: never) => Promise<unknown>;

/** The release state machine definition, the very file serverless.yml deploys. */
export const RELEASE_ASL_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'state-machines', 'release.asl.json');

/** The release state machine definition as read from RELEASE_ASL_PATH. */
export const readReleaseDefinition = (): { States: Record<string, State> } =>
  JSON.parse(readFileSync(RELEASE_ASL_PATH, 'utf8')) as { States: Record<string, State> };

type State = {
  Type: string;
  Resource?: string;
  ItemProcessor?: { States: Record<string, State> };
  Iterator?: { States: Record<string, State> };
  Branches?: Array<{ States: Record<string, State> }>;
};

/** Every Task state of a definition (Map and Parallel bodies included): state name → Resource. */
export function taskResources(definition: { States: Record<string, State> }): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task' && state.Resource) found.set(name, state.Resource);
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) walk(inner.States);
      for (const branch of state.Branches ?? []) walk(branch.States);
    }
  };
  walk(definition.States);
  return found;
}

/** The function a Lambda Task resource names (`arn:aws:lambda:<region>:<account>:function:<name>`). */
export const functionOf = (resource: string): string | undefined => /:function:([A-Za-z0-9_-]+)$/.exec(resource)?.[1];

/**
 * The definition as aws-local-stepfunctions 3.0.0 must be given it: `"ResultPath": "$"` (a state's or a
 * catcher's) dropped, which on AWS means the same as no ResultPath (the result replaces the input), while
 * that runner writes the result under a key named "$" of the input instead. A copy; the given one is unchanged.
 */
export function forLocalRunner<D extends { States: Record<string, State> }>(definition: D): D {
  const fix = <T extends object>(node: T): T => {
    if ((node as { ResultPath?: unknown }).ResultPath !== '$') return { ...node };
    const { ResultPath: _same, ...rest } = node as T & { ResultPath?: unknown };
    return rest as T;
  };
  const machine = <M extends { States: Record<string, State> }>(m: M): M => ({
    ...m,
    States: Object.fromEntries(
      Object.entries(m.States).map(([name, state]) => {
        const s = fix(state) as State & { Catch?: object[] };
        if (s.Catch) s.Catch = s.Catch.map(fix);
        if (s.ItemProcessor) s.ItemProcessor = machine(s.ItemProcessor);
        if (s.Iterator) s.Iterator = machine(s.Iterator);
        if (s.Branches) s.Branches = s.Branches.map(machine);
        return [name, s];
      }),
    ),
  });
  return machine(definition);
}

/**
 * Timing overrides of aws-local-stepfunctions (tests, benchmarks), keyed by state name, in milliseconds:
 * a retrier's wait (one number for every retrier of the state, or one per retrier) and a Wait state's pause.
 * None by default: the intervals of the definition apply.
 */
export interface LocalStepFunctionsOptions {
  retryIntervalOverrides?: Record<string, number | number[]>;
  waitTimeOverrides?: Record<string, number>;
}

interface LocalExecution {
  description: ExecutionDescription;
  done: Promise<void>;
  /** Every event of the run (states entered and exited with their input and output, errors, retries). */
  history: unknown[];
}

/**
 * Step Functions in-process: the release ASL run by aws-local-stepfunctions, each Task state's Lambda
 * resource mapped to the task handler of the same function name. Executions live in memory (this process);
 * their progress is also in the release records, as on AWS.
 */
export class LocalStepFunctions implements StepFunctionsPort {
  private readonly executions = new Map<string, LocalExecution>();
  private machine: Promise<StateMachine> | undefined;
  private readonly overrides: Record<string, (input: unknown) => Promise<unknown>>;

  constructor(
    private readonly definition: { States: Record<string, State> },
    handlers: Record<string, LocalTaskHandler>,
    private readonly options: LocalStepFunctionsOptions = {},
  ) {
    this.overrides = {};
    for (const [state, resource] of taskResources(definition)) {
      const fn = functionOf(resource);
      const handler = fn && handlers[fn];
      if (!handler) throw new ConfigError(`state ${state}: no local handler for ${resource}`);
      this.overrides[state] = (input) => handler(input as never);
    }
  }

  /**
   * The runner's state machine, built on the first start. aws-local-stepfunctions is loaded here, not by a
   * static import: this file is bundled into the deployed functions (the composition root names it), where
   * the package is left out (serverless.yml esbuild.exclude) and a static import would fail at module load.
   */
  private stateMachine(): Promise<StateMachine> {
    return (this.machine ??= import('aws-local-stepfunctions').then(
      ({ StateMachine: Machine }) => new Machine(forLocalRunner(this.definition) as never, { validationOptions: { checkPaths: true, checkArn: true } }),
    ));
  }

  async startExecution(request: { stateMachineArn: string; name: string; input: string }) {
    if (request.stateMachineArn !== LOCAL_STATE_MACHINE_ARN) throw new ReleaseNotFoundError(`No state machine ${request.stateMachineArn}`);
    // Before the name is checked and taken: no await may come between the two (concurrent starts of one name).
    const machine = await this.stateMachine();
    const executionArn = executionArnOf(request.stateMachineArn, request.name);
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: idempotent while running with the same input; ExecutionAlreadyExists otherwise.
      if (existing.description.status === 'RUNNING' && existing.description.input === request.input) {
        return { executionArn, startDate: existing.description.startDate };
      }
      throw new ReleaseExistsError(`Release ${request.name} exists already`);
    }
    const startDate = new Date();
    const description: ExecutionDescription = { executionArn, name: request.name, status: 'RUNNING', startDate, input: request.input };
    const input = JSON.parse(request.input) as unknown;
    const run = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.overrides as never,
        ...(this.options.retryIntervalOverrides && { retryIntervalOverrides: this.options.retryIntervalOverrides }),
        ...(this.options.waitTimeOverrides && { waitTimeOverrides: this.options.waitTimeOverrides }),
      },
      context: { Execution: { Id: executionArn, Name: request.name, Input: input as never, StartTime: startDate.toISOString() } },
    });
    const history: unknown[] = [];
    // Drained as it goes: the history is what AWS would keep (inputs, outputs, Error/Cause of every state).
    const drained = (async () => {
      for await (const event of run.eventLogs) history.push(event);
    })().catch(() => undefined);
    const done = run.result.then(
      (output) => {
        Object.assign(description, { status: 'SUCCEEDED', stopDate: new Date(), output: JSON.stringify(output) });
      },
      (error: Error & { cause?: unknown }) => {
        const failure = (error.cause instanceof Error ? error.cause : error) as Error;
        Object.assign(description, { status: 'FAILED', stopDate: new Date(), error: failure.name, cause: failure.message });
      },
    );
    this.executions.set(executionArn, { description, done: done.then(() => drained), history });
    return { executionArn, startDate };
  }

  async describeExecution(request: { executionArn: string }): Promise<ExecutionDescription> {
    const found = this.executions.get(request.executionArn);
    if (!found)
      throw new ReleaseNotFoundError(`Release ${request.executionArn.split(':').pop()} not found (local executions live in the process that started them)`);
    return { ...found.description };
  }

  /** The execution's history events so far, as JSON-ready objects (tests grep them for secrets). */
  history(executionArn: string): unknown[] {
    const found = this.executions.get(executionArn);
    if (!found) throw new ReleaseNotFoundError(`Release ${executionArn} not found`);
    return [...found.history];
  }

  /** Resolves when the execution has ended (tests, benchmarks). */
  async settled(executionArn: string): Promise<ExecutionDescription> {
    const found = this.executions.get(executionArn);
    if (!found) throw new ReleaseNotFoundError(`Release ${executionArn} not found`);
    await found.done;
    return { ...found.description };
  }
}
