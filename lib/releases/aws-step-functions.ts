import { ReleaseExistsError, ReleaseNotFoundError, StepFunctionsError } from '../errors.js';
import type { ExecutionDescription, ExecutionStatus, StepFunctionsPort } from './step-functions-port.js';

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
