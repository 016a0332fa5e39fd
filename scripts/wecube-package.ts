/**
 * `npm run wecube-package`: the WeCube plugin zip, `.build/wecube/<name>-<version>.zip`, holding
 * `register.xml` (scripts/lib/register-xml.ts, from the registry and the operations' schemas) and
 * `image.tar` (a docker-archive built without a Docker engine, scripts/lib/wecube-image.ts), which is what
 * upstream's `make package` produces and what WeCube's plugin upload takes. The version is PLUGIN_VERSION,
 * or `v` + package.json's version.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yazl from 'yazl';
import { ConfigError } from '../lib/errors.js';
import type { Operation } from '../lib/wecube/operation.js';
import { registerXml } from './lib/register-xml.js';

/** The image step: writes a docker-archive of `tag` to `outFile`, `workDir` being its scratch space. */
export type BuildImage = (opts: { outFile: string; workDir: string; tag: string }) => Promise<unknown>;

export interface WecubePackageOptions {
  /** Image and zip name (package.json's name). */
  name: string;
  version: string;
  operations: readonly Operation[];
  /** Where the zip is written. */
  outDir: string;
  /** Scratch space of the image step (image.tar is written there); removed once the zip is written. */
  workDir: string;
  buildImage: BuildImage;
}

export interface WecubePackage {
  zipFile: string;
  /** `name:version`, the tag given to the image step and named by register.xml. */
  image: string;
}

// A docker tag: WeCube names the image `<name>:<version>` in `docker run`.
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOCKER_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** Builds the plugin zip (register.xml and image.tar). Throws ConfigError for a version or name docker refuses. */
export async function buildWecubePackage(opts: WecubePackageOptions): Promise<WecubePackage> {
  if (!DOCKER_TAG.test(opts.version)) throw new ConfigError(`PLUGIN_VERSION: "${opts.version}" is not a docker tag (letters, digits, _ . -)`);
  if (!DOCKER_NAME.test(opts.name)) throw new ConfigError(`package name "${opts.name}" is not a docker image name (lower case, digits, . _ -)`);
  const image = `${opts.name}:${opts.version}`;
  // register.xml first: a registry that disagrees with the functions fails before the long image step.
  const xml = registerXml({ operations: opts.operations, version: opts.version, image, containerName: `${opts.name}-${opts.version}` });

  await mkdir(opts.outDir, { recursive: true });
  await mkdir(opts.workDir, { recursive: true });
  const imageFile = join(opts.workDir, 'image.tar');
  await rm(imageFile, { force: true });
  await opts.buildImage({ outFile: imageFile, workDir: opts.workDir, tag: image });

  const zipFile = join(opts.outDir, `${opts.name}-${opts.version}.zip`);
  // Written aside and renamed: an interrupted build never leaves a zip that looks complete.
  const partial = `${zipFile}.partial`;
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(xml, 'utf8'), 'register.xml');
  zip.addFile(imageFile, 'image.tar');
  zip.end();
  try {
    await pipeline(zip.outputStream, createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, zipFile);
  // The bundle, the layers and image.tar: hundreds of MB the zip now holds (the Debian cache lives elsewhere).
  await rm(opts.workDir, { recursive: true, force: true });
  return { zipFile, image };
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const { loadConfig } = await import('../lib/config.js');
  const { createRuntime } = await import('../lib/runtime.js');
  const { operationsFor } = await import('./lib/load-operations.js');
  // Loaded here, not at the top: the assembly above (and its test) does not need the image builder.
  const { buildImage } = await import('./lib/wecube-image.js');
  const started = Date.now();
  const result = await buildWecubePackage({
    name: pkg.name,
    version: process.env['PLUGIN_VERSION']?.trim() || `v${pkg.version}`,
    // The schemas over the default configuration, as openapi.json: register.xml describes no deployment's settings.
    operations: await operationsFor(createRuntime(loadConfig({ AUTH_MODE: 'off' }))),
    outDir: join(root, '.build', 'wecube'),
    workDir: join(root, '.build', 'wecube', 'work'),
    buildImage,
  });
  console.log(`${result.zipFile}: register.xml + image.tar (${result.image}) in ${Math.round((Date.now() - started) / 1000)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`wecube-package: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
