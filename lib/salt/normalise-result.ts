/** Why a host's result is not a success. */
export type HostErrorKind =
  | 'NO_RETURN' // minion down, unknown id, or no answer before the deadline
  | 'BUSY' // the minion answers and still runs the job at the deadline
  | 'QUEUED' // never asked: the plugin's own queue toward salt stayed full until the deadline
  | 'FUNCTION_ERROR' // salt could not run the function: exception, unknown function, bad arguments, failed state
  | 'NONZERO_EXIT' // the command ran and exited non-zero
  | 'TIMEOUT' // the command was killed by its own timeout kwarg
  | 'TRIMMED' // the return exceeded max_event_size and salt replaced it with VALUE_TRIMMED
  | 'BAD_SHAPE'; // a value of an unexpected type (a string where a dict was expected)

/** One host's outcome of one salt function, whatever the function and the client. */
export interface HostResult {
  host: string;
  ok: boolean;
  /** The function's exit code (cmd.*), or salt's job retcode; null when the host did not return. */
  retcode: number | null;
  stdout: string;
  stderr: string;
  /** The function's raw return value (for non-command functions: grains, disk.usage...). */
  ret: unknown;
  error?: HostErrorKind;
  /** A one-line explanation naming the host, present when ok is false. */
  message?: string;
  /** The salt job, when known (BUSY results name it). */
  jid?: string;
  /** NO_RETURN because the master knows no such minion (no accepted key): `message` is upstream's text as it is. */
  unknown?: true;
}

/** A host the master does not know (no accepted key for the id): NO_RETURN with upstream's salt_api_target_error text. */
export const unknownMinion = (host: string): HostResult =>
  failedResult(host, 'NO_RETURN', `Salt-master can not recognize ${host}, please check if salt-minion installed on this target.`, { unknown: true });

/** The host gave no result of the function: not reached, still running at the deadline, or never asked. */
export const unanswered = (r: Pick<HostResult, 'error'>): boolean => r.error === 'NO_RETURN' || r.error === 'BUSY' || r.error === 'QUEUED';

export interface NormaliseOptions {
  /** The function returns a dict (grains.items, cmd.run_all...): a string return is an error. */
  expectObject?: boolean;
}

const TRIMMED = 'VALUE_TRIMMED';
const NO_RETURN_TEXT = /^Minion did not return/;
const TIMED_OUT = /: Timed out after (\d+) seconds/;
const SALT_ERROR_TEXT = /^(The minion function caused an exception|Passed invalid arguments|'[\w.]+' is not available)/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The useful line of a salt error string: the exception's last line rather than the whole traceback. */
export function summariseSaltError(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) return 'empty error';
  if (/Traceback/.test(text)) return lines[lines.length - 1]!.slice(0, 500);
  return lines[0]!.slice(0, 500);
}

/** A host's failed result: nothing returned, `kind` and `message` saying why. */
export function failedResult(host: string, kind: HostErrorKind, message: string, fields: Partial<HostResult> = {}): HostResult {
  return { host, ok: false, retcode: null, stdout: '', stderr: '', ret: undefined, ...fields, error: kind, message };
}

function commandResult(host: string, ret: Record<string, unknown>): HostResult {
  const retcode = typeof ret['retcode'] === 'number' ? ret['retcode'] : Number(ret['retcode'] ?? 0);
  const stdout = typeof ret['stdout'] === 'string' ? ret['stdout'] : '';
  const stderr = typeof ret['stderr'] === 'string' ? ret['stderr'] : '';
  const base = { host, retcode, stdout, stderr, ret };
  if (stdout === TRIMMED || stderr === TRIMMED) {
    return failedResult(host, 'TRIMMED', `Output from ${host} exceeded salt's max_event_size and was trimmed`, base);
  }
  const timedOut = TIMED_OUT.exec(stdout);
  if (timedOut && retcode !== 0) {
    return failedResult(host, 'TIMEOUT', `Command on ${host} was killed after its ${timedOut[1]} s timeout`, base);
  }
  if (retcode !== 0) {
    return failedResult(host, 'NONZERO_EXIT', `Command on ${host} exited with code ${retcode}`, base);
  }
  return { ...base, ok: true };
}

function stateFailures(ret: Record<string, unknown>): string[] {
  return Object.entries(ret)
    .filter(([key, v]) => key.includes('_|-') && isObject(v) && v['result'] === false)
    .map(([key, v]) => `${key.split('_|-')[1]}: ${String((v as Record<string, unknown>)['comment'] ?? '')}`);
}

/**
 * Normalises one host's value from salt-api into a HostResult. Accepts the `local` full_return shape
 * `{ret, retcode, out?}`, the job-cache shape `{return, retcode, success}`, a bare `false` (no return),
 * a bare string, or undefined (the host is absent from the response).
 */
export function normaliseHostReturn(host: string, value: unknown, options: NormaliseOptions = {}): HostResult {
  if (value === undefined || value === false) {
    return failedResult(host, 'NO_RETURN', `Minion ${host} did not return`);
  }
  let ret: unknown = value;
  let jobRetcode: number | null = null;
  let out: unknown;
  if (isObject(value) && ('ret' in value || 'return' in value) && 'retcode' in value) {
    ret = 'ret' in value ? value['ret'] : value['return'];
    jobRetcode = typeof value['retcode'] === 'number' ? value['retcode'] : null;
    out = value['out'];
  }
  if (out === 'no_return' || (typeof ret === 'string' && NO_RETURN_TEXT.test(ret))) {
    return failedResult(host, 'NO_RETURN', `Minion ${host} did not return (not connected, or no accepted key for this id)`);
  }
  if (ret === TRIMMED) {
    return failedResult(host, 'TRIMMED', `Return from ${host} exceeded salt's max_event_size and was trimmed`, { retcode: jobRetcode });
  }
  if (isObject(ret) && 'retcode' in ret && ('stdout' in ret || 'stderr' in ret)) {
    return commandResult(host, ret);
  }
  if (typeof ret === 'string') {
    if (SALT_ERROR_TEXT.test(ret) || (options.expectObject && (jobRetcode ?? 0) === 0)) {
      const kind: HostErrorKind = SALT_ERROR_TEXT.test(ret) || jobRetcode ? 'FUNCTION_ERROR' : 'BAD_SHAPE';
      return failedResult(host, kind, `Salt function failed on ${host}: ${summariseSaltError(ret)}`, { retcode: jobRetcode, ret });
    }
    if (jobRetcode !== null && jobRetcode !== 0) {
      // cmd.run with full_return: the text is the command's output and the job retcode its exit code.
      return failedResult(host, 'NONZERO_EXIT', `Command on ${host} exited with code ${jobRetcode}`, { retcode: jobRetcode, stdout: ret, ret });
    }
  }
  if (isObject(ret)) {
    const failures = stateFailures(ret);
    if (failures.length || (jobRetcode !== null && jobRetcode !== 0 && Object.keys(ret).some((k) => k.includes('_|-')))) {
      return failedResult(host, 'FUNCTION_ERROR', `State failed on ${host}: ${failures.join('; ').slice(0, 500) || 'see result'}`, {
        retcode: jobRetcode,
        ret,
      });
    }
  }
  if (Array.isArray(ret) && jobRetcode !== null && jobRetcode !== 0) {
    return failedResult(host, 'FUNCTION_ERROR', `Salt function failed on ${host}: ${ret.map(String).join('; ').slice(0, 500)}`, {
      retcode: jobRetcode,
      ret,
    });
  }
  return { host, ok: true, retcode: jobRetcode ?? 0, stdout: typeof ret === 'string' ? ret : '', stderr: '', ret };
}

/** Normalises a whole `local` return element for the hosts that were targeted, in target order. */
export function normaliseLocalReturn(targets: readonly string[], element: unknown, options: NormaliseOptions = {}): HostResult[] {
  const byHost = isObject(element) ? element : {};
  return [...new Set(targets)].map((host) => normaliseHostReturn(host, byHost[host], options));
}
