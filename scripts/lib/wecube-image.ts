/**
 * The WeCube plugin image, built without a Docker engine: a docker-archive/OCI tar (docker-archive.ts) of
 * three layers: a minimal Debian bookworm from Debian's packages (debian-rootfs.ts, cached under
 * .build/image-cache/), the Node 22 binary of the `node` npm package, and the server bundle
 * (server-bundle.ts). It runs `node /app/dist/server/server.mjs` (lib/server/main.ts: 0.0.0.0:8082, JWT
 * required) as user `app`. Unlike upstream's image it holds no salt-master or salt-api: the server calls
 * the salt-api that SALT_API_URL names.
 */
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_UID, debianRootfs, PLUGIN_ROOTFS } from './debian-rootfs.js';
import { type ContainerConfig, type DockerArchive, writeDockerArchive } from './docker-archive.js';
import { bundleServer } from './server-bundle.js';
import { writeLayer } from './tar-layer.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the Debian root filesystems are cached (keyed by their package list and hooks). */
export const IMAGE_CACHE_DIR = join(root, '.build', 'image-cache');

/** Paths inside the image. The bundle sits two levels below /app, where the release runner finds state-machines/. */
export const IMAGE_PATHS = {
  node: '/usr/local/bin/node',
  bundle: '/app/dist/server/server.mjs',
  releaseAsl: '/app/state-machines/release.asl.json',
} as const;

export const SERVER_PORT = 8082;

// Layer entries carry this mtime, so that unchanged inputs give unchanged layer digests (and docker reuses them).
const LAYER_MTIME = new Date('2000-01-01T00:00:00Z');

const ARCHITECTURES: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** The image's runtime settings: what WeCube's `docker run` starts. */
export const IMAGE_CONFIG: ContainerConfig = {
  User: `${APP_UID}:${APP_UID}`,
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/home/app', 'NODE_ENV=production', 'NODE_OPTIONS=--enable-source-maps'],
  Entrypoint: [IMAGE_PATHS.node, IMAGE_PATHS.bundle],
  WorkingDir: '/app',
  ExposedPorts: { [`${SERVER_PORT}/tcp`]: {} },
  StopSignal: 'SIGTERM',
  Labels: {
    'org.opencontainers.image.title': 'wecube-plugins-saltstack (serverless edition, server mode)',
    'org.opencontainers.image.description': 'WeCube SaltStack plugin: the HTTP server of lib/server/main.ts; talks to the salt-api named by SALT_API_URL',
  },
};

export interface BuildImageOptions {
  /** The docker-archive tar to write. */
  outFile: string;
  /** Scratch directory for the bundle and the layers (created; left for the caller to remove). */
  workDir: string;
  /** `name:tag`, as register.xml names the image. */
  tag: string;
  /** The Debian cache directory (IMAGE_CACHE_DIR by default). */
  cacheDir?: string;
}

/** What a build made, for logs and tests. */
export interface ImageBuild extends DockerArchive {
  rootfs: { file: string; cached: boolean };
  bundleBytes: number;
  imageBytes: number;
}

/** The Node binary `node_modules/.bin/node` runs (the npm package's real ELF file, not a wrapper). */
export function nodeBinary(): string {
  return realpathSync(join(root, 'node_modules', '.bin', 'node'));
}

/**
 * Builds the plugin image into `outFile`. Needs root the first time (mmdebstrap, installed with apt-get when
 * missing); later builds reuse the cached root filesystem and take seconds. Throws with the failing step's output.
 */
export async function buildImage(opts: BuildImageOptions): Promise<ImageBuild> {
  const architecture = ARCHITECTURES[process.arch];
  if (!architecture) throw new Error(`no image architecture for Node's process.arch ${process.arch}`);
  mkdirSync(opts.workDir, { recursive: true });
  const rootfs = debianRootfs(opts.cacheDir ?? IMAGE_CACHE_DIR, PLUGIN_ROOTFS);
  const bundle = join(opts.workDir, 'server.mjs');
  const bundleBytes = await bundleServer(bundle);

  const nodeLayer = join(opts.workDir, 'node-layer.tar');
  await writeLayer(
    nodeLayer,
    [
      { type: 'directory', path: '/usr/local/bin' },
      { type: 'file', path: IMAGE_PATHS.node, from: nodeBinary(), mode: 0o755 },
    ],
    LAYER_MTIME,
  );
  const appLayer = join(opts.workDir, 'app-layer.tar');
  // Root-owned and read-only to `app`: the server cannot rewrite its own code.
  await writeLayer(
    appLayer,
    [
      { type: 'directory', path: '/app' },
      { type: 'directory', path: '/app/dist' },
      { type: 'directory', path: '/app/dist/server' },
      { type: 'file', path: IMAGE_PATHS.bundle, from: bundle },
      { type: 'file', path: `${IMAGE_PATHS.bundle}.map`, from: `${bundle}.map` },
      { type: 'directory', path: '/app/state-machines' },
      { type: 'file', path: IMAGE_PATHS.releaseAsl, from: join(root, 'state-machines', 'release.asl.json') },
    ],
    LAYER_MTIME,
  );
  const archive = await writeDockerArchive({
    outFile: opts.outFile,
    tag: opts.tag,
    architecture,
    created: new Date(),
    config: IMAGE_CONFIG,
    layers: [
      {
        file: rootfs.file,
        createdBy: `mmdebstrap --variant=${PLUGIN_ROOTFS.variant} ${PLUGIN_ROOTFS.suite} (+ ${PLUGIN_ROOTFS.include.join(', ')}; user app)`,
      },
      { file: nodeLayer, createdBy: `node ${process.version} from the node npm package` },
      { file: appLayer, createdBy: 'server bundle (lib/server/main.ts) and the release state machine' },
    ],
  });
  return { ...archive, rootfs, bundleBytes, imageBytes: statSync(opts.outFile).size };
}
