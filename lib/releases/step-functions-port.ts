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

/** What release code is given to start and read releases: a port and the release state machine on it. */
export interface ReleaseRunner {
  port: StepFunctionsPort;
  stateMachineArn: string;
}

/** The execution ARN of a named execution of a state machine (AWS's own layout). */
export const executionArnOf = (stateMachineArn: string, name: string): string => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** The ARN the in-process runner gives the release state machine. */
export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:local:000000000000:stateMachine:release';
