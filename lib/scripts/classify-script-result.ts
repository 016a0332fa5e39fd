import { JobFailedError, type PluginError } from '../errors.js';
import { hostError } from '../salt/host-error.js';
import { summariseSaltError, type HostResult } from '../salt/normalise-result.js';

/** What one script did on one host. */
export interface ScriptOutcome {
  ok: boolean;
  /** The script's exit code; 124 when killed by its timeout, 126 when it could not be started, 1 for other failures. */
  retCode: number;
  /** stdout then stderr, or an explanation when there is no output to show. */
  output: string;
  /** Present when ok is false: the item's error (TargetNoReturnError or JobFailedError). */
  error?: PluginError;
}

export const EXIT_TIMEOUT = 124;
export const EXIT_NOT_STARTED = 126;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCommandReturn = (v: unknown) => isObject(v) && 'retcode' in v && ('stdout' in v || 'stderr' in v);

/** stdout and stderr as one text (salt strips their final newlines). */
export const joinOutput = (stdout: string, stderr: string): string => (stdout && stderr ? `${stdout}\n${stderr}` : stdout || stderr);

const oneLine = (text: string, max = 300) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
};

/**
 * The reason in a salt-side failure text, without the noise: cmd.run_all's "Unable to run command" error
 * carries the whole environment of the minion, which must not reach the caller.
 */
function saltReason(text: string, runAs: string): string {
  if (/uid should be integer, not str/.test(text) || new RegExp(`User '${runAs.replace(/[.$]/g, '\\$&')}' is not available`).test(text)) {
    return `user ${runAs} not exist`;
  }
  const cwd = /Specified cwd '([^']*)' either not absolute or does not exist/.exec(text);
  if (cwd) return `workDir ${cwd[1]} does not exist`;
  const http = /HTTP (\d{3}): ([^\n]*?) reading (\S+)/.exec(text);
  if (http) return `the host could not download the script (HTTP ${http[1]} ${http[2]})`;
  const reason = /reason: (.*)$/m.exec(text);
  if (reason) return reason[1]!.slice(0, 300);
  return summariseSaltError(text.replace(/^ERROR: /, ''));
}

/**
 * Turns one host's salt result of cmd.script / cmd.run_all into the script's outcome. Every failure
 * names the host and the script (`label`); a minion that did not return is TargetNoReturnError.
 */
export function classifyScriptResult(result: HostResult, label: string, runAs: string, timeoutS: number): ScriptOutcome {
  const host = result.host;
  const failed = (retCode: number, output: string, why: string): ScriptOutcome => ({
    ok: false,
    retCode,
    output,
    error: new JobFailedError(`Script ${label} failed on target ${host}: ${why}`, host),
  });
  if (result.error === 'NO_RETURN') return { ok: false, retCode: 1, output: '', error: hostError(result) };
  const output = joinOutput(result.stdout, result.stderr);
  switch (result.error) {
    case undefined:
      if (!isCommandReturn(result.ret)) {
        // cmd.script swallows an exec error (no #! line, noexec mount) and returns {}.
        return failed(EXIT_NOT_STARTED, '', 'the script could not be started (does it begin with a #! line? is its file system mounted noexec?)');
      }
      return { ok: true, retCode: 0, output };
    case 'NONZERO_EXIT':
      if (!isCommandReturn(result.ret)) {
        const why = saltReason(typeof result.ret === 'string' ? result.ret : result.stdout, runAs);
        return failed(1, why, why);
      }
      return {
        ok: false,
        retCode: result.retcode ?? 1,
        output,
        error: new JobFailedError(`Script run retCode=${result.retcode} on target ${host} (${label})${output ? `: ${oneLine(output.slice(-600))}` : ''}`, host),
      };
    case 'TIMEOUT': {
      const why = `killed after its ${timeoutS} s timeout (salt keeps no output of a killed command)`;
      return failed(EXIT_TIMEOUT, why, why);
    }
    case 'TRIMMED': {
      const note = `[the output exceeded salt's max_event_size and was dropped by salt (VALUE_TRIMMED); exit code ${result.retcode ?? 'unknown'}]`;
      if (result.retcode === 0) return { ok: true, retCode: 0, output: note };
      return failed(result.retcode ?? 1, note, `Script run retCode=${result.retcode ?? 'unknown'}, output trimmed by salt`);
    }
    default: {
      const why = typeof result.ret === 'string' ? saltReason(result.ret, runAs) : (result.message ?? 'salt could not run the script');
      return failed(1, why, why);
    }
  }
}
