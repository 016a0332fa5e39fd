import type { LocalCall } from '../salt/build-lowstate.js';
import type { ScriptStep } from './plan-scripts.js';
import { shellJoin } from './shell-quote.js';

/**
 * How a minion's cmd.script takes `args`: salt up to 3007.6 splits one string like a shell (quoted by
 * shellJoin); 3007.7 and 3007.8 pass a string as ONE argument (salt issue #68298) but take a list as argv.
 */
export type ArgsForm = 'list' | 'string';

/** The `args` form a minion of this salt version needs (`test.version`: "3006.9", "3007.8"...). */
export function argsFormFor(version: string): ArgsForm {
  const [major = 0, minor = 0] = version.split(/[.rc-]/).map((p) => Number.parseInt(p, 10) || 0);
  return major > 3007 || (major === 3007 && minor >= 7) ? 'list' : 'string';
}

/**
 * The fixed program that starts a script already on the host. It is a constant: the script path and its
 * arguments reach it as positional parameters (`"$@"`), never as shell text. Like upstream it makes the
 * script executable first when it is not (scripts unpacked from zip lose their mode), then execs it, so
 * its own `#!` line picks the interpreter.
 */
export const LOCAL_LAUNCHER =
  'if [ ! -e "$1" ]; then echo "host-script: $1: no such file" >&2; exit 127; fi; ' + 'if [ ! -x "$1" ]; then chmod +x -- "$1" || exit 126; fi; exec "$@"';

export interface ScriptCallOptions {
  /** The user salt runs the script as (`runas`); undefined: the minion's own user, without `su`. */
  runAs: string | undefined;
  /** Seconds before salt kills the script (cmd.* `timeout` kwarg). */
  timeoutS: number;
  /** S3/inline scripts: a URL the minion can GET without credentials (presigned). */
  sourceUrl?: string;
  argsForm?: ArgsForm;
}

/** The file name suffix salt gives its temp copy: the key's own extension when it is a plain one. */
function suffixFor(step: ScriptStep): string {
  const name = step.source.kind === 's3' ? step.source.ref.key.slice(step.source.ref.key.lastIndexOf('/') + 1) : '';
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1];
  return `script.${ext ?? 'sh'}`;
}

/**
 * The salt function for one script step (without the target). LOCAL: cmd.run_all with an argv list and
 * python_shell off (no shell parses input). S3/inline: cmd.script with the presigned URL as `source`;
 * args as a list or one shell-quoted string depending on the minion's salt version.
 */
export function buildScriptCall(step: ScriptStep, options: ScriptCallOptions): Omit<LocalCall, 'tgt'> {
  const common = {
    ...(options.runAs !== undefined && { runas: options.runAs }),
    timeout: options.timeoutS,
    python_shell: false,
    ...(step.cwd && { cwd: step.cwd }),
  };
  if (step.source.kind === 'local') {
    return {
      fun: 'cmd.run_all',
      kwarg: { cmd: ['/bin/sh', '-c', LOCAL_LAUNCHER, 'host-script', step.source.path, ...step.args], ...common },
    };
  }
  if (!options.sourceUrl) throw new Error('buildScriptCall: an S3 or inline script needs its source URL');
  const args = step.args.length === 0 ? undefined : options.argsForm === 'list' ? [...step.args] : shellJoin(step.args);
  return {
    fun: 'cmd.script',
    kwarg: {
      // cmd.script names its temp copy after the URL's "extension", query included: a presigned URL makes
      // that name too long for the file system. The fragment (never sent to the server) ends the URL with
      // a short extension instead.
      source: `${options.sourceUrl}#${suffixFor(step)}`,
      ...(args !== undefined && { args }),
      ...common,
    },
  };
}
