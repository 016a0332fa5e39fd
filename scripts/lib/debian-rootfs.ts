/**
 * A minimal Debian root filesystem as a tar, built from Debian's packages without a container engine
 * (mmdebstrap, as root), cached by everything that goes into it: a second image build reuses it.
 * mmdebstrap is installed with apt-get when missing, as scripts/stack/system-packages.ts installs the stack's packages.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** What the root filesystem is made of; every field is part of the cache key. */
export interface RootfsSpec {
  suite: string;
  /** mmdebstrap variant: `essential` is Essential:yes packages only (no apt, no init). */
  variant: string;
  /** Packages on top of the variant. */
  include: readonly string[];
  /** `deb ...` lines mmdebstrap downloads from. */
  sources: readonly string[];
  /** dpkg options (path-exclude of docs, man pages, locales). */
  dpkgOptions: readonly string[];
  /** Shell commands run by mmdebstrap on the finished tree, `$1` being its root (fixed text, no input in them). */
  customizeHooks: readonly string[];
}

const UID_GID = 10001;

/** The plugin image's base: bookworm (this machine's release), what Node 22 links against, CA certificates, user `app`. */
export const PLUGIN_ROOTFS: RootfsSpec = {
  suite: 'bookworm',
  variant: 'essential',
  // node links libstdc++ and libgcc_s (ldd); ca-certificates for TLS to S3 and any public endpoint.
  include: ['ca-certificates', 'libstdc++6', 'libgcc-s1'],
  sources: [
    'deb http://deb.debian.org/debian bookworm main',
    'deb http://deb.debian.org/debian bookworm-updates main',
    'deb http://deb.debian.org/debian-security bookworm-security main',
  ],
  dpkgOptions: [
    'path-exclude=/usr/share/man/*',
    'path-exclude=/usr/share/info/*',
    'path-exclude=/usr/share/locale/*',
    'path-exclude=/usr/share/doc/*',
    // The licences stay.
    'path-include=/usr/share/doc/*/copyright',
  ],
  customizeHooks: [
    `echo 'app:x:${UID_GID}:${UID_GID}:WeCube saltstack plugin:/home/app:/usr/sbin/nologin' >> "$1/etc/passwd"`,
    `echo 'app:x:${UID_GID}:' >> "$1/etc/group"`,
    `mkdir -p "$1/home/app" && chown ${UID_GID}:${UID_GID} "$1/home/app" && chmod 750 "$1/home/app"`,
  ],
};

/** The uid and gid of user `app` in PLUGIN_ROOTFS. */
export const APP_UID = UID_GID;

/** Bumped when how the tar is made changes in a way the spec does not show. */
const RECIPE_VERSION = 1;

/** The cache key of a spec (hex). */
export const rootfsKey = (spec: RootfsSpec): string =>
  createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, arch: process.arch, ...spec }))
    .digest('hex')
    .slice(0, 16);

function run(command: string, args: readonly string[], what: string): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    throw new Error(`${what} failed (${command} ${args.join(' ')}): ${result.error?.message ?? `exit ${result.status}`}\n${output}`);
  }
}

const onPath = (program: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0;

/** Installs mmdebstrap with apt-get when it is missing (needs root); throws with apt's last lines when that fails. */
export function ensureMmdebstrap(): void {
  if (onPath('mmdebstrap')) return;
  if (process.getuid?.() !== 0) throw new Error('mmdebstrap is missing and installing it needs root (apt-get install mmdebstrap)');
  run('apt-get', ['update', '-q'], 'apt-get update');
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'mmdebstrap'], 'apt-get install mmdebstrap');
}

/**
 * The root filesystem tar of `spec` under `cacheDir` (`debian-<suite>-<key>.tar`), built when not cached.
 * Built as root (mmdebstrap's root mode: file owners as in the packages). Throws with mmdebstrap's output.
 */
export function debianRootfs(cacheDir: string, spec: RootfsSpec = PLUGIN_ROOTFS): { file: string; cached: boolean } {
  const file = join(cacheDir, `debian-${spec.suite}-${rootfsKey(spec)}.tar`);
  if (existsSync(file)) return { file, cached: true };
  if (process.getuid?.() !== 0) throw new Error('building the Debian root filesystem needs root (mmdebstrap --mode=root)');
  ensureMmdebstrap();
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${file}.partial-${process.pid}`;
  try {
    run(
      'mmdebstrap',
      [
        `--variant=${spec.variant}`,
        '--mode=root',
        '--format=tar',
        `--include=${spec.include.join(',')}`,
        ...spec.dpkgOptions.map((o) => `--dpkgopt=${o}`),
        ...spec.customizeHooks.map((h) => `--customize-hook=${h}`),
        spec.suite,
        partial,
        ...spec.sources,
      ],
      'mmdebstrap',
    );
    // Renamed once complete: an interrupted build never looks cached.
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
  return { file, cached: false };
}
