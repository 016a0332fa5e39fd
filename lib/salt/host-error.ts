import { JobFailedError, JobTimeoutError, SaltBusyError, TargetNoReturnError, type PluginError } from '../errors.js';
import type { HostResult } from './normalise-result.js';

/**
 * The domain error for a failed host result: NO_RETURN is "target unreachable" (upstream's text), BUSY a
 * job still running at the deadline, QUEUED the plugin's own queue toward salt, the rest "job failed".
 */
export function hostError(result: HostResult): PluginError {
  const message = result.message ?? `Salt function failed on ${result.host}`;
  if (result.error === 'BUSY') return new JobTimeoutError(message, result.jid ?? '');
  if (result.error === 'QUEUED') return new SaltBusyError(message, [result.host]);
  if (result.error === 'NO_RETURN')
    return new TargetNoReturnError(result.unknown ? message : `Cannot connect to target ${result.host}. ${message}`, result.host);
  return new JobFailedError(message, result.host);
}
