import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Config } from '../config.js';
import { decodeCipherA, resolveSeed } from '../crypto/cipher-a.js';
import { InputError, SecretError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { splitList } from '../text/split-list.js';
import type { ArtifactStore } from './artifact-store.js';
import { parseRsaKeyPair, type RsaKeyPair } from './encrypt-variable.js';
import { confinePath } from './entry-guard.js';
import { HashingStream } from './hashing-stream.js';
import { archiveType, rand4, repackedName } from './package-name.js';
import { baseName, endpointFor, keyDir, parseEndpoint, type ObjectRef } from './parse-endpoint.js';
import { combinedPrefixes, escapeMatcher, parseEscapeList } from './placeholder-prefixes.js';
import { parseVariableList } from './parse-variable-list.js';
import { rewriteTar, rewriteZip, SecondPassNeeded, type RewriteRequest } from './rewrite-package.js';
import { unresolvedError, VariableResolver, type UnresolvedVariable } from './variable-resolver.js';
import { downloadToTemp } from './visit-package.js';

export interface PackageVariableDeps {
  config: Pick<Config, 'encryptSeed' | 'placeholders' | 'variableNullCheck'> & Partial<Pick<Config, 'encryptEscape'>> & { s3: Pick<Config['s3'], 'bucket'> };
  store: () => ArtifactStore;
  /** Clock and random suffix of the new package name (fixed in tests). */
  now?: () => Date;
  rand?: () => string;
}

export interface ReplaceRequest {
  guid?: string | undefined;
  endpoint: string;
  confFiles?: string | undefined;
  variableList?: string | undefined;
  seed?: string | undefined;
  appPublicKey?: string | undefined;
  sysPrivateKey?: string | undefined;
  variableNullCheck?: string | undefined;
  /** Whole-file replacements must be in this bucket (releases from a manifest: the manifest's bucket). */
  replacementBucket?: string | undefined;
}

export type ReplaceResult = {
  s3PkgPath: string;
  unresolvedVariables: UnresolvedVariable[];
};

/** Where re-packed packages are staged until their md5 (part of their name) is known. */
export const STAGING_PREFIX = '.saltstack-upload/';

const yes = (v: string | undefined) => v !== undefined && /^(y|yes|true|1|on)$/i.test(v.trim());

function decodeKey(guid: string, seed: string, value: string | undefined, label: string): string {
  if (!value) return '';
  try {
    return decodeCipherA(guid, seed, value);
  } catch (error) {
    throw new SecretError(`Password decoding failed, details: decode ${label} fail,${(error as Error).message} `);
  }
}

/** A whole-file replacement's object, refused outside `bucket` when given (the error names buckets, not the value). */
function replacementRef(url: string, bucket: string | undefined): ObjectRef {
  const ref = parseEndpoint(url);
  if (bucket === undefined) return ref;
  if (ref.bucket !== bucket) {
    throw new InputError(`Try to replace file fail, a replacement file is in bucket ${ref.bucket}: this release may only read bucket ${bucket}`);
  }
  // `/<bucket>/../<other>/...` is resolved by S3 servers: dot segments would walk out of the bucket
  if (ref.key.split('/').some((s) => s === '.' || s === '..'))
    throw new InputError('Try to replace file fail, a replacement file key has `.` or `..` segments');
  return ref;
}

/** Streams what `produce` writes into the store at `ref`, hashing it on the way; any failure aborts the upload. */
async function produceInto<T>(
  store: ArtifactStore,
  ref: ObjectRef,
  signal: AbortSignal | undefined,
  produce: (dest: Writable) => Promise<T>,
): Promise<{ result: T; md5: string; bytes: number }> {
  const hashing = new HashingStream();
  const uploading = store.put(ref, hashing, { signal });
  uploading.catch((error: Error) => hashing.destroy(error));
  try {
    const result = await produce(hashing);
    await uploading;
    return { result, md5: hashing.digest(), bytes: hashing.bytes };
  } catch (error) {
    hashing.destroy(error as Error);
    await uploading.catch(() => undefined);
    throw error;
  }
}

/**
 * package-variable/replace for one item (upstream §8): downloads the package, substitutes placeholders in
 * `confFiles`, re-packs it in the same format and uploads it as `<md5>_<name>_<timestamp>_<rand4><ext>`,
 * next to the original or in the configured artifact bucket. Streams end to end (a tar never touches the
 * disk; a zip, which needs random access, is staged in the OS temp dir), so memory stays bounded.
 * Returns the original endpoint untouched when there are no confFiles or no variables.
 */
export async function replacePackageVariables(
  request: ReplaceRequest,
  deps: PackageVariableDeps,
  ctx: { logger: Logger; signal?: AbortSignal | undefined },
): Promise<ReplaceResult> {
  const { config } = deps;
  const guid = request.guid ?? '';
  const seed = resolveSeed(request.seed, config.encryptSeed);
  const appPublicKey = decodeKey(guid, seed, request.appPublicKey, 'appPlubicKey');
  const sysPrivateKey = decodeKey(guid, seed, request.sysPrivateKey, 'sysPrivateKey');
  ctx.logger.redactor.register(sysPrivateKey);

  const confFiles = splitList(request.confFiles);
  if (!confFiles.length || !request.variableList?.trim()) return { s3PkgPath: request.endpoint, unresolvedVariables: [] };

  const source = parseEndpoint(request.endpoint);
  const archive = baseName(source);
  const type = archiveType(archive);
  if (!type) throw new InputError(`File ${request.endpoint} is illegal to be recognized as a compressed file type`);
  const paths = [
    ...new Set(
      confFiles.map((file) => {
        const path = confinePath(file);
        if (path === undefined) throw new InputError(`confFiles entry ${file} escapes the package root`);
        if (path === '') throw new InputError(`path:${file} is dir`);
        return path;
      }),
    ),
  ];

  const prefixes = combinedPrefixes(config.placeholders);
  const nullCheck = config.variableNullCheck || yes(request.variableNullCheck);
  const register = (value: string) => ctx.logger.redactor.register(value);
  const variables = parseVariableList(request.variableList, { seed, prefixes, nullCheck, onSecret: register });
  let keys: RsaKeyPair | undefined;
  const fileReplacements = new Map<string, string>();
  const store = deps.store();
  const escaping = escapeMatcher(config.encryptEscape ?? parseEscapeList(undefined));
  if (escaping.problem) ctx.logger.warn(escaping.problem);
  const escapes = escaping.escapes;
  const signal = ctx.signal;

  const targetBucket = config.s3.bucket ?? source.bucket;
  // Next to the source package, in its folder (upstream without S3_SERVER_URL; callers and released-package rely on it),
  // in the artifact bucket when one is configured (the bucket the plugin may write).
  const targetDir = keyDir(source);
  const stagingKey = `${STAGING_PREFIX}${randomUUID()}`;
  const staging: ObjectRef = {
    bucket: targetBucket,
    key: stagingKey,
    url: endpointFor(source, { bucket: targetBucket, key: stagingKey }),
  };
  const started = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), 'pkg-'));
  let staged = false;
  try {
    const pass = (resolver: VariableResolver): RewriteRequest => ({
      archive,
      format: type.format,
      confFiles: paths,
      prefixes,
      resolve: (ph, file, line) => resolver.resolve(ph, file, line),
      fileReplacements,
      openReplacement: (url) => store.get(replacementRef(url, request.replacementBucket), { signal }),
      tmpDir: workDir,
      beforeFinish: () => {
        if (nullCheck && resolver.unresolved.length) throw unresolvedError(resolver.unresolved);
      },
      signal,
    });
    const newResolver = () =>
      new VariableResolver({ variables, keys: () => (keys ??= parseRsaKeyPair(appPublicKey, sysPrivateKey)), onSecret: register, fileReplacements, escapes });

    let resolver = newResolver();
    let produced: { result: { entries: number }; md5: string; bytes: number };
    if (type.format === 'zip') {
      const local = await downloadToTemp(store, source, signal);
      try {
        staged = true;
        produced = await produceInto(store, staging, signal, (dest) => rewriteZip(local.file, dest, pass(resolver)));
      } finally {
        await local.cleanup();
      }
    } else {
      try {
        const { body } = await store.get(source, { signal });
        staged = true;
        produced = await produceInto(store, staging, signal, (dest) => rewriteTar(body, dest, pass(resolver)));
      } catch (error) {
        if (!(error instanceof SecondPassNeeded)) throw error;
        // A whole-file target came before the conf file naming it; every target is known now.
        ctx.logger.info('whole-file target precedes its conf file: second pass', { archive });
        resolver = newResolver();
        const { body } = await store.get(source, { signal });
        produced = await produceInto(store, staging, signal, (dest) => rewriteTar(body, dest, pass(resolver)));
      }
    }

    const name = repackedName(archive, { md5: produced.md5, now: (deps.now ?? (() => new Date()))(), rand: (deps.rand ?? rand4)() });
    const key = targetDir + name;
    const target: ObjectRef = { bucket: targetBucket, key, url: endpointFor(source, { bucket: targetBucket, key }) };
    await store.copy(staging, target, { signal });
    ctx.logger.info('package re-packed', {
      source: request.endpoint,
      s3PkgPath: target.url,
      entries: produced.result.entries,
      bytes: produced.bytes,
      unresolved: resolver.unresolved.length,
      ms: Date.now() - started,
    });
    return { s3PkgPath: target.url, unresolvedVariables: resolver.unresolved };
  } finally {
    await rm(workDir, { recursive: true, force: true });
    if (staged) {
      await store.remove(staging).catch((error: unknown) => ctx.logger.warn('staging object not removed', { staging: staging.url, error }));
    }
  }
}
