import { ConfigError, ReleaseExistsError, ReleaseNotFoundError, StepFunctionsError } from '../errors.js';
import type { Runtime } from '../runtime.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionDescription {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date | undefined;
  input?: string | undefined;
  output?: string | undefined;
  error?: string | undefined;
  cause?: string | undefined;
}

/**
 * The part of the AWS Step Functions client releases use, with the same request and answer shapes, so that
 * the in-process runner (local) and AWS are interchangeable. Like AWS, starting an execution whose name is
 * taken is idempotent while it runs with the same input (the same ARN comes back) and a ReleaseExistsError
 * otherwise.
 */
export interface StepFunctionsPort {
  startExecution(request: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string; startDate: Date }>;
  describeExecution(request: { executionArn: string }): Promise<ExecutionDescription>;
}

/** The execution ARN of a named execution of a state machine (AWS's own layout). */
export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** The ARN the in-process runner gives the release state machine. */
export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:local:000000000000:stateMachine:release';

type SfnModule = typeof import('@aws-sdk/client-sfn');

/** AWS Step Functions through the SDK (loaded on first use); SDK errors translated at this edge. */
export class AwsStepFunctions implements StepFunctionsPort {
  private client: Promise<{ sdk: SfnModule; client: InstanceType<SfnModule['SFNClient']> }> | undefined;

  /** The region comes from the Lambda environment (AWS_REGION), as for every SDK client with no region given. */
  private sdk() {
    return (this.client ??= import('@aws-sdk/client-sfn').then((sdk) => ({ sdk, client: new sdk.SFNClient({}) })));
  }

  async startExecution(request: { stateMachineArn: string; name: string; input: string }) {
    const { sdk, client } = await this.sdk();
    try {
      const out = await client.send(new sdk.StartExecutionCommand(request));
      return { executionArn: out.executionArn!, startDate: out.startDate ?? new Date() };
    } catch (error) {
      throw translate(error, request.name);
    }
  }

  async describeExecution(request: { executionArn: string }): Promise<ExecutionDescription> {
    const { sdk, client } = await this.sdk();
    try {
      const out = await client.send(new sdk.DescribeExecutionCommand(request));
      return {
        executionArn: out.executionArn!,
        name: out.name ?? '',
        status: out.status as ExecutionStatus,
        startDate: out.startDate ?? new Date(0),
        stopDate: out.stopDate,
        input: out.input,
        output: out.output,
        error: out.error,
        cause: out.cause,
      };
    } catch (error) {
      throw translate(error, request.executionArn);
    }
  }
}

function translate(error: unknown, what: string): Error {
  const name = (error as { name?: string } | null)?.name ?? '';
  if (name === 'ExecutionAlreadyExists') return new ReleaseExistsError(`Release ${what} exists already`);
  if (name === 'ExecutionDoesNotExist') return new ReleaseNotFoundError(`Release ${what} not found`);
  // Only the SDK's error name: its message may quote the request.
  return new StepFunctionsError(`Step Functions refused the call for ${what}: ${name || 'unknown error'}`);
}

const ports = new WeakMap<Runtime, Promise<{ port: StepFunctionsPort; stateMachineArn: string }>>();

/**
 * The release runner of a runtime: AWS Step Functions (RELEASE_STATE_MACHINE_ARN), or with RELEASE_RUNNER=local
 * (the default of STAGE=local) the same ASL file run in-process, its Task resources mapped to the task
 * handlers. Built once per runtime; the local runner is imported only when used (it is not in the bundles).
 */
export function releaseRunner(rt: Runtime): Promise<{ port: StepFunctionsPort; stateMachineArn: string }> {
  let runner = ports.get(rt);
  if (!runner) {
    runner = (async () => {
      if (rt.config.releases.runner === 'local') {
        // Not a literal: the bundler must leave the local runner (and aws-local-stepfunctions) out of the
        // deployed functions, where it is never used; `npm start` and the tests run the sources.
        const localRunner: string = './local-step-functions.js';
        const { LocalStepFunctions } = (await import(localRunner)) as typeof import('./local-step-functions.js');
        return { port: await LocalStepFunctions.forRuntime(rt), stateMachineArn: LOCAL_STATE_MACHINE_ARN };
      }
      const arn = rt.config.releases.stateMachineArn;
      if (!arn) throw new ConfigError('RELEASE_STATE_MACHINE_ARN is not set: releases cannot start');
      return { port: new AwsStepFunctions(), stateMachineArn: arn };
    })();
    ports.set(rt, runner);
  }
  return runner;
}
