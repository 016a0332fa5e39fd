import type { StateStep } from '../salt/high-data.js';
import { writeGuardStep } from '../salt/write-guard.js';
import type { Owner } from './host-path.js';
import { parentOf } from './host-path.js';

/** What one host-file/copy item does on its host. */
export interface CopyPlan {
  /** The file written (normalised absolute path). */
  destination: string;
  /** A URL the minion can fetch (presigned S3 GET). */
  source: string;
  sha256: string;
  owner?: Owner | undefined;
  /** Permission bits of the file (4 octal digits); unset keeps salt's default (0644 new, unchanged existing). */
  mode?: string | undefined;
  unpack?: {
    /**
     * The normalised tar.gz the handler wrote from the package (readPackage): hosts unpack it, never the
     * package itself, so what lands is exactly what the guard judged.
     */
    source: string;
    sha256: string;
    /** Names directly under the archive root (from the handler's own listing). */
    topLevel: string[];
    /** A name for the staging directory, unique to the request. */
    stagingName: string;
  };
}

const ownerArgs = (owner: Owner | undefined) => ({ user: owner?.user, group: owner?.group });

/**
 * The states of a copy, run as one `state.high` job:
 * 0. the write guard: no component of the destination, the staging directory or a top-level name of the
 *    package may be a symbolic link owned by a non-root account (an application user owns its install
 *    directory and could point a name at /etc/passwd; salt would follow it as root);
 * 1. `file.managed` fetches the URL, checks its sha256 and only then moves it into place (a failed
 *    download or a wrong checksum leaves the destination untouched; salt's cached copy is not kept); a
 *    symlink at the destination is replaced, never followed;
 * 2. unpack: `archive.extracted` of the normalised archive into a hidden staging directory next to the
 *    package, owned by fileOwner (ownership applied with lchown);
 * 3. the complete tree is merged into the directory with hard links (`cp -a -l`, argv, no shell): existing
 *    files are replaced, others kept, as `tar x` would; cp refuses to put a directory where a symlink is,
 *    at any depth; nothing of the archive appears before it has been fully extracted;
 * 4. the staging directory is removed whatever happened before.
 */
export function copySteps(plan: CopyPlan): StateStep[] {
  const dir = parentOf(plan.destination);
  const staging = plan.unpack && `${dir === '/' ? '' : dir}/${plan.unpack.stagingName}`;
  const guarded = [plan.destination, ...(staging ? [staging, ...plan.unpack!.topLevel.map((name) => `${dir === '/' ? '' : dir}/${name}`)] : [])];
  const guard = writeGuardStep(guarded)!;
  const steps: StateStep[] = [
    guard,
    {
      id: 'copy',
      state: 'file.managed',
      args: {
        name: plan.destination,
        source: plan.source,
        source_hash: `sha256=${plan.sha256}`,
        makedirs: true,
        keep_source: false,
        show_changes: false,
        follow_symlinks: false,
        ...ownerArgs(plan.owner),
        mode: plan.mode,
      },
      require: [guard.id],
    },
  ];
  if (!plan.unpack || !staging) return steps;
  steps.push({
    id: 'unpack',
    state: 'archive.extracted',
    args: {
      name: staging,
      source: plan.unpack.source,
      source_hash: `sha256=${plan.unpack.sha256}`,
      archive_format: 'tar',
      enforce_toplevel: false,
      keep_source: false,
      trim_output: true,
      ...ownerArgs(plan.owner),
      // Without it salt chowns only the archive's top-level entries it recognises (none, for a tar
      // without directory entries): the whole staging tree it is.
      ...(plan.owner && { enforce_ownership_on: staging }),
    },
    require: ['copy'],
  });
  if (plan.unpack.topLevel.length) {
    steps.push({
      id: 'merge',
      state: 'module.run',
      args: {
        'cmd.run_all': [
          { cmd: ['cp', '-a', '-l', '--remove-destination', '-t', dir, ...plan.unpack.topLevel.map((name) => `${staging}/${name}`)] },
          { python_shell: false },
        ],
      },
      require: ['unpack'],
    });
  }
  steps.push({ id: 'clean up', state: 'file.absent', args: { name: staging }, last: true });
  return steps;
}

/** The `detail` WeCube expects of a copy: the raw shape of upstream's `file.get_hash` answer. */
export const md5Detail = (host: string, md5: string): string => `{"return": [{${JSON.stringify(host)}: "${md5}"}]}`;
