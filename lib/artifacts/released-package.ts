import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config.js';
import { ArtifactNotFoundError, InputError, PackageDirNotFoundError } from '../errors.js';
import { commonFields, looseString, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import type { ArtifactStore } from './artifact-store.js';
import { confinePath } from './entry-guard.js';
import { archiveType, type ArchiveFormat } from './package-name.js';
import { baseName, parseEndpoint, type ParsedEndpoint } from './parse-endpoint.js';
import { combinedPrefixes } from './placeholder-prefixes.js';
import { collectPlaceholders, type ConfigKeyInfo } from './scan-placeholders.js';
import { visitPackage } from './visit-package.js';

export interface ReleasedPackageDeps {
  config: Pick<Config, 'placeholders'>;
  store: () => ArtifactStore;
}

export interface PackageFile {
  name: string;
  isDir: boolean;
  /** md5 of the content; '' for directories and links. */
  md5: string;
}

function locate(endpoint: string, unsupported: (name: string) => string): { ref: ParsedEndpoint; archive: string; format: ArchiveFormat } {
  const ref = parseEndpoint(endpoint);
  const archive = baseName(ref);
  const type = archiveType(archive);
  if (!type) throw new InputError(unsupported(archive));
  return { ref, archive, format: type.format };
}

async function md5Of(content: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of content) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * The entries directly under `currentDir` of a package in S3, sorted by name, with the md5 of each file
 * (upstream §16.7, without its on-disk cache: the package is streamed on every call). Directories that
 * only exist as the parent of other entries are listed too. Throws ArtifactNotFoundError for a missing dir.
 */
export async function listPackageDir(
  input: { endpoint: string; currentDir?: string | undefined },
  deps: ReleasedPackageDeps,
  signal?: AbortSignal,
): Promise<PackageFile[]> {
  const { ref, archive, format } = locate(input.endpoint, (name) => `File ${name} is illegal to be recognized as a compressed file type`);
  const dir = confinePath(input.currentDir ?? '');
  if (dir === undefined) throw new InputError(`Parameter currentDir validation failed: ${input.currentDir} escapes the package root`);
  const under = dir === '' ? '' : `${dir}/`;
  const files = new Map<string, PackageFile>();
  let exists = dir === '';
  await visitPackage({ store: deps.store(), ref, format, archive, signal }, async (entry, open) => {
    if (entry.path === dir && entry.type === 'directory') exists = true;
    if (!entry.path.startsWith(under) || entry.path === dir) return;
    exists = true;
    const rest = entry.path.slice(under.length);
    const slash = rest.indexOf('/');
    if (slash !== -1) {
      files.set(rest.slice(0, slash), { name: rest.slice(0, slash), isDir: true, md5: '' });
      return;
    }
    const isDir = entry.type === 'directory';
    files.set(rest, { name: rest, isDir, md5: entry.type === 'file' ? await md5Of(await open()) : '' });
  });
  if (!exists) throw new PackageDirNotFoundError(`exist check error:dir(${input.currentDir}) not exist `);
  return [...files.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Every placeholder occurrence of one file of a package (line, name, prefix), all four prefix kinds.
 * Stops reading the package once the file has been scanned.
 */
export async function configFileKeys(
  input: { endpoint: string; filePath: string },
  deps: ReleasedPackageDeps,
  signal?: AbortSignal,
): Promise<{ filePath: string; configKeyInfos: ConfigKeyInfo[] }> {
  const filePath = input.filePath.replace(/^\//, '');
  const { ref, archive, format } = locate(input.endpoint, (name) => `Unsupported compress type,fileName=${name} `);
  const path = confinePath(filePath);
  if (path === undefined) throw new InputError(`Parameter filePath validation failed: ${input.filePath} escapes the package root`);
  let infos: ConfigKeyInfo[] | undefined;
  await visitPackage({ store: deps.store(), ref, format, archive, signal }, async (entry, open) => {
    if (entry.path !== path) return;
    if (entry.type === 'directory') throw new InputError(`path:${filePath} is dir`);
    if (entry.type !== 'file') throw new InputError(`path:${filePath} is a link, not a file`);
    infos = await collectPlaceholders(await open(), combinedPrefixes(deps.config.placeholders));
    return false;
  });
  if (!infos) throw new ArtifactNotFoundError(`File ${filePath} does not exist.`);
  return { filePath, configKeyInfos: infos };
}

/** released-package/listCurrentDir. */
export const releasedPackageListCurrentDir = (deps: ReleasedPackageDeps) =>
  defineOperation({
    plugin: 'released-package',
    action: 'listCurrentDir',
    summary: 'List one directory of a package in S3 (name, isDir, md5 of each file)',
    input: z.object({ ...commonFields, endpoint: requiredString(), currentDir: looseString() }),
    output: z.object({ files: z.array(z.object({ name: z.string(), isDir: z.boolean(), md5: z.string() })) }),
    run: eachItem(async (item, ctx) => ({ files: await listPackageDir(item, deps, ctx.signal) })),
  });

/** released-package/getConfigFileKey. */
export const releasedPackageGetConfigFileKey = (deps: ReleasedPackageDeps) =>
  defineOperation({
    plugin: 'released-package',
    action: 'getConfigFileKey',
    summary: 'List the [<prefix><name>] placeholders of one file of a package in S3 (line, key, type)',
    input: z.object({ ...commonFields, endpoint: requiredString(), filePath: requiredString() }),
    output: z.object({
      filePath: z.string(),
      configKeyInfos: z.array(z.object({ line: z.string(), key: z.string(), type: z.string() })),
    }),
    run: eachItem((item, ctx) => configFileKeys(item, deps, ctx.signal)),
  });
