import type { ArchiveFormat } from '../artifacts/package-name.js';
import type { StateStep } from '../salt/high-data.js';
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
    format: ArchiveFormat;
    /** Names directly under the archive root (from the handler's own listing). */
    topLevel: string[];
    /** A name for the staging directory, unique to the request. */
    stagingName: string;
  };
}

const ownerArgs = (owner: Owner | undefined) => ({ user: owner?.user, group: owner?.group });

/**
 * The states of a copy, run as one `state.high` job:
 * 1. `file.managed` fetches the URL, checks its sha256 and only then moves it into place (a failed
 *    download or a wrong checksum leaves the destination untouched; salt's cached copy is not kept);
 * 2. unpack: `archive.extracted` into a hidden staging directory next to the archive, owned by fileOwner;
 * 3. the complete tree is merged into the directory with hard links (`cp -a -l`, argv, no shell): existing
 *    files are replaced, others kept, as `tar x` would; nothing of the archive appears before it has been
 *    fully extracted;
 * 4. the staging directory is removed whatever happened before.
 */
export function copySteps(plan: CopyPlan): StateStep[] {
  const hash = `sha256=${plan.sha256}`;
  const steps: StateStep[] = [
    {
      id: 'copy',
      state: 'file.managed',
      args: {
        name: plan.destination,
        source: plan.source,
        source_hash: hash,
        makedirs: true,
        keep_source: false,
        show_changes: false,
        ...ownerArgs(plan.owner),
        mode: plan.mode,
      },
    },
  ];
  if (!plan.unpack) return steps;
  const dir = parentOf(plan.destination);
  const staging = `${dir === '/' ? '' : dir}/${plan.unpack.stagingName}`;
  steps.push({
    id: 'unpack',
    state: 'archive.extracted',
    args: {
      name: staging,
      source: plan.destination,
      source_hash: hash,
      archive_format: plan.unpack.format === 'zip' ? 'zip' : 'tar',
      enforce_toplevel: false,
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
