import type { StateStep } from '../salt/high-data.js';
import type { InstallDir } from './deploy-plan.js';

/**
 * The fixed scripts a deployment runs on a host around the package copy. They are constants: every value
 * (the install directory, its snapshot, the paths to clear) reaches them as a positional argument of an
 * argv (`bash -c <script> <name> <args...>`, `python_shell: false`), never spliced into a shell string.
 */

/**
 * Snapshot, then clear. `$1` install dir, `$2` snapshot path, `$3...` paths to clear (relative; trailing `/`
 * = contents only). The snapshot is a hard-link tree (`cp -al`: no copy of the data, same filesystem;
 * full copy across filesystems): the new package replaces files by unlinking them (`cp --remove-destination`),
 * so the snapshot keeps the old ones. With no install yet, the snapshot is an empty regular file, which
 * tells a restore to remove the directory instead. A path to clear must resolve inside the install dir.
 */
const SNAPSHOT_AND_CLEAR = String.raw`set -eu
dest=$1 snap=$2; shift 2
mkdir -p -- "$(dirname -- "$dest")"
rm -rf -- "$snap" "$snap.partial"
if [ -d "$dest" ]; then
  if ! cp -a -l -- "$dest" "$snap.partial" 2>/dev/null; then rm -rf -- "$snap.partial"; cp -a -- "$dest" "$snap.partial"; fi
  mv -- "$snap.partial" "$snap"
  echo "snapshot of $dest kept as $snap"
elif [ -e "$dest" ]; then
  echo "$dest exists and is not a directory" >&2; exit 2
else
  : > "$snap"
  echo "no previous install at $dest"
fi
root=$(realpath -m -- "$dest")
for rel in "$@"; do
  case "$rel" in
    */) dir=$(realpath -m -- "$dest/$rel")
        case "$dir/" in "$root"/*) ;; *) echo "clearPath $rel leaves $dest" >&2; exit 3;; esac
        if [ -d "$dir" ]; then find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +; echo "emptied $dir/"
        else echo "nothing to clear at $dir/"; fi;;
    *)  parent=$(realpath -m -- "$(dirname -- "$dest/$rel")")
        case "$parent/" in "$root"/*) ;; *) echo "clearPath $rel leaves $dest" >&2; exit 3;; esac
        entry="$parent/$(basename -- "$rel")"
        if [ -e "$entry" ] || [ -L "$entry" ]; then rm -rf -- "$entry"; echo "removed $entry"
        else echo "nothing to clear at $entry"; fi;;
  esac
done
`;

/**
 * Restore. `$1` install dir, `$2` snapshot. No snapshot: the deployment never reached the host's files,
 * nothing to undo. An empty-file snapshot: there was no install, the directory is removed. Otherwise the
 * directory is replaced by its snapshot.
 */
const RESTORE = String.raw`set -eu
dest=$1 snap=$2
if [ ! -e "$snap" ]; then echo "no snapshot: $dest was not changed"; exit 0; fi
if [ -f "$snap" ]; then rm -rf -- "$dest"; rm -f -- "$snap"; echo "removed $dest (there was no previous install)"; exit 0; fi
rm -rf -- "$dest"
mv -- "$snap" "$dest"
echo "restored $dest from its snapshot"
`;

const bash = (script: string, name: string, args: string[]) => ({
  'cmd.run_all': [{ cmd: ['/bin/bash', '-c', script, name, ...args] }, { python_shell: false }, { timeout: 600 }],
});

/** The state that snapshots the install directory and clears `clear` in it; first state of a distribution. */
export function snapshotStep(dir: InstallDir, clear: readonly string[]): StateStep {
  return { id: 'snapshot', state: 'module.run', args: bash(SNAPSHOT_AND_CLEAR, 'saltstack-snapshot', [dir.path, dir.snapshot, ...clear]) };
}

/** `cmd.run_all` arguments of a restore (salt `local` call). */
export function restoreCall(dir: InstallDir): { arg: unknown[]; kwarg: Record<string, unknown> } {
  return { arg: [['/bin/bash', '-c', RESTORE, 'saltstack-restore', dir.path, dir.snapshot]], kwarg: { python_shell: false, timeout: 600 } };
}

/** The state that drops the snapshot once the new version runs. */
export function commitStep(dir: InstallDir): StateStep {
  return { id: 'drop snapshot', state: 'file.absent', args: { name: dir.snapshot } };
}
