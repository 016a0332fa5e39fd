import { shellQuote } from '../scripts/shell-quote.js';
import type { StateStep } from './high-data.js';

/**
 * Refuses a write through a symbolic link that a non-root account could have planted. Every existing
 * component of every path (the path itself included) is looked at with lstat: a symlink owned by any uid
 * but 0 stops the job before anything is written, naming the path and the link. Root-owned links (an
 * operator's `/opt/app -> /data/app`) are followed, as the write itself will follow them.
 *
 * Paths arrive on stdin, one per line (host paths never hold control characters: host-path.ts), so the
 * command line is a constant: nothing from a request is ever part of a shell string.
 *
 * `guard_path <path>`: the check of one path, as a bash function other host scripts include (host-user's
 * single-job scripts); on a refusal it sets `refusal` to the message and returns 3.
 */
export const GUARD_PATH_FUNCTION = String.raw`guard_path() {
  local p=$1 cur= rest=\${1#/} part uid
  while [ -n "$rest" ]; do
    part=\${rest%%/*}
    if [ "$part" = "$rest" ]; then rest=; else rest=\${rest#*/}; fi
    [ -n "$part" ] || continue
    cur=$cur/$part
    if [ -L "$cur" ]; then
      uid=$(stat -c %u -- "$cur")
      if [ "$uid" != 0 ]; then
        refusal="refusing to write $p: $cur is a symbolic link owned by uid $uid (not created by root)"
        return 3
      fi
    elif [ ! -e "$cur" ]; then
      break
    fi
  done
  return 0
}
`.replace(/\\\$/g, '$');

const SCRIPT = `set -u
${GUARD_PATH_FUNCTION}
while IFS= read -r p; do
  [ -n "$p" ] || continue
  guard_path "$p" || { echo "$refusal" >&2; exit 3; }
done
echo "no untrusted symbolic link on the way"
`;

/** The constant command line of the guard (the script quoted once, by a real shell-quoting routine). */
export const WRITE_GUARD_COMMAND = `/bin/bash -c ${shellQuote(SCRIPT)} saltstack-write-guard`;

/** Prefix of the guard's refusal, as it appears in a failure message. */
export const WRITE_GUARD_REFUSAL = 'refusing to write';

/**
 * The `cmd.run` state that checks `paths` (normalised absolute host paths) before the states that write
 * them; make those states require it. Returns undefined when there is nothing to check.
 */
export function writeGuardStep(paths: readonly string[], id = 'write guard'): StateStep | undefined {
  const unique = [...new Set(paths)].filter((p) => p.startsWith('/'));
  if (!unique.length) return undefined;
  return { id, state: 'cmd.run', args: { name: WRITE_GUARD_COMMAND, stdin: unique.join('\n') + '\n', timeout: 60 } };
}
