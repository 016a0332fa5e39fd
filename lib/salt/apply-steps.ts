import { JobFailedError, type PluginError } from '../errors.js';
import { firstFailure, highData, stripSignatures, type StateStep } from './high-data.js';
import { hostError } from './host-error.js';
import { unanswered, type HostResult } from './normalise-result.js';
import { runBatched, type BatchOptions } from './run-batched.js';
import type { SaltClient } from './salt-client.js';

/** Some states to run on one host. */
export interface StepsCall {
  host: string;
  steps: readonly StateStep[];
}

/**
 * Runs each call's states as one `state.high` job; calls with identical states share one job on a host
 * list, different ones run as concurrent async jobs. One result per call, in order.
 */
export function applySteps(salt: SaltClient, calls: readonly StepsCall[], options: BatchOptions): Promise<HostResult[]> {
  return runBatched(
    salt,
    // A minion runs one state job at a time and refuses a second ("The function state.high is running as
    // PID ..."): two items for the same host would fail. `queue` makes the second wait its turn.
    calls.map(({ host, steps }) => ({ host, fun: 'state.high', arg: [highData(steps)], kwarg: { queue: true } })),
    options,
  );
}

/**
 * The error of a failed `state.high` result: TargetNoReturnError when the host did not answer, otherwise
 * JobFailedError `<what> failed on <host>: <state id>: <salt's comment>`.
 */
export function stepsError(result: HostResult, what: string): PluginError {
  if (unanswered(result)) return hostError(result);
  const reason = firstFailure(result.ret) ?? stripSignatures(result.message ?? 'salt reported a failure');
  return new JobFailedError(`${what} failed on ${result.host}: ${reason}`, result.host);
}
