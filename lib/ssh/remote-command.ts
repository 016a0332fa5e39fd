import { shellJoin } from '../scripts/shell-quote.js';

/**
 * The fixed program that runs a script over SSH. It is a constant: the directory, the timeout, the script
 * path and its arguments reach it as positional parameters, each quoted by shellQuote in the command line.
 * It makes a non-executable script executable (as upstream did), lets the script's own `#!` line pick the
 * interpreter, and kills it with coreutils `timeout` when the host has it (exit 124, like salt's path).
 */
export const SSH_LAUNCHER =
  'cd -- "$1" || exit 126; t=$2; shift 2; ' +
  'if [ ! -e "$1" ]; then echo "host-script: $1: no such file" >&2; exit 127; fi; ' +
  'if [ ! -x "$1" ]; then chmod +x -- "$1" || exit 126; fi; ' +
  'if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 "$t" "$@"; fi; exec "$@"';

/** The command line for one script: `sh -c '<launcher>' host-script <dir> <timeout> <script> <args...>`, all quoted. */
export function remoteScriptCommand(script: { path: string; args: readonly string[]; cwd: string | undefined; timeoutS: number }): string {
  return shellJoin(['sh', '-c', SSH_LAUNCHER, 'host-script', script.cwd ?? '.', String(script.timeoutS), script.path, ...script.args]);
}
