import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactStoreError } from '../errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { HashingStream } from './hashing-stream.js';
import type { ArchiveFormat } from './package-name.js';
import { endpointFor, type ObjectRef, type ParsedEndpoint } from './parse-endpoint.js';
import { openZip, readTar, type ArchiveEntry } from './read-archive.js';
import { createTarWriter, type TarWriter } from './write-archive.js';

/** The permission bits a normalised entry keeps: no setuid, setgid or sticky bit reaches a host. */
const KEPT_MODE = 0o777;

/** What a host unpacks instead of the package itself. */
export interface NormalisedArchive {
  ref: ObjectRef;
  sha256: string;
  size: number;
}

/** What the handler knows of a package once it has read (and, for an archive, normalised) it. */
export interface PackageRead {
  size: number;
  md5: string;
  sha256: string;
  /** Archives only: the names directly under the archive root, sorted. */
  topLevel?: string[];
  /** Archives only: how many entries it has. */
  entries?: number;
  /** Archives only: the normalised tar.gz hosts unpack. */
  normalised?: NormalisedArchive;
}

/**
 * Writes the entries the guard accepted as a tar.gz of our own: directories, regular files and relative
 * symbolic links that stay inside the root (checked by EntryGuard), each under its normalised path, owned
 * by uid/gid 0 with no user or group name (the host's fileOwner is applied after extraction), permission
 * bits only. No hard link, device, PAX global header, sparse entry or foreign pax record can be in it, so
 * Python's tarfile on the host (salt's archive.extracted) reads exactly the entries judged here.
 */
class NormalisedWriter {
  private readonly hash = new HashingStream('sha256');
  private readonly writer: TarWriter;
  private readonly upload: Promise<void>;

  constructor(
    store: ArtifactStore,
    readonly ref: ObjectRef,
    signal: AbortSignal | undefined,
  ) {
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.writer = createTarWriter(out, { gzip: true, ...(signal && { signal }) });
    // pipe() does not pass errors on: an aborted writer must end the upload too, or put() waits forever.
    out.on('error', (error) => this.hash.destroy(error));
    this.upload = store.put(ref, out.pipe(this.hash), { signal });
    this.upload.catch(() => undefined);
  }

  add(entry: ArchiveEntry, body: AsyncIterable<Buffer> | undefined): Promise<void> {
    if (entry.path === '') return Promise.resolve();
    const base = { name: entry.path, mode: entry.mode & KEPT_MODE, mtime: entry.mtime, uid: 0, gid: 0, uname: '', gname: '' };
    switch (entry.type) {
      case 'directory':
        return this.writer.add({ ...base, type: 'directory' });
      case 'symlink':
        return this.writer.add({ ...base, type: 'symlink', mode: 0o777, linkname: entry.linkname ?? '' });
      default:
        return this.writer.add({ ...base, type: 'file', size: entry.size }, body);
    }
  }

  async finish(): Promise<NormalisedArchive> {
    await this.writer.finish();
    await this.upload;
    return { ref: this.ref, sha256: this.hash.digest(), size: this.hash.bytes };
  }

  async abort(error: Error, store: ArtifactStore): Promise<void> {
    this.writer.abort(error);
    this.hash.destroy(error);
    await this.upload.catch(() => undefined);
    await store.remove(this.ref).catch(() => undefined);
  }
}

/**
 * Reads a package once from the store: md5 and sha256 of its bytes (what a host that keeps the package
 * verifies). For an archive, every entry is judged by EntryGuard while streaming (a refused entry throws
 * InputError naming it, before anything reaches a host) and the accepted entries are re-written, as they
 * were judged, into a normalised tar.gz at `normaliseTo`: hosts unpack that file, never the package, so no
 * quirk of another reader (zip "made by" bits, PAX global headers, duplicate names) can place a file the
 * guard did not see. Throws InputError, ArtifactNotFoundError, ArtifactStoreError.
 */
export async function readPackage(
  store: ArtifactStore,
  ref: ObjectRef,
  options: { format?: ArchiveFormat | undefined; archive: string; normaliseTo?: ObjectRef | undefined; signal?: AbortSignal | undefined },
): Promise<PackageRead> {
  const md5 = new HashingStream('md5');
  const sha = new HashingStream('sha256');
  const { body, size } = await store.get(ref, { signal: options.signal });
  const facts = () => ({ size: sha.bytes, md5: md5.digest(), sha256: sha.digest() });
  const checkSize = () => {
    if (size !== undefined && sha.bytes !== size) {
      throw new ArtifactStoreError(`Failed to download ${ref.url} from S3, details: got ${sha.bytes} of ${size} bytes`);
    }
  };

  if (!options.format) {
    await pipeline(body, md5, sha, new PassThrough().resume(), { signal: options.signal });
    checkSize();
    return facts();
  }

  const top = new Set<string>();
  let entries = 0;
  const out = options.normaliseTo && new NormalisedWriter(store, options.normaliseTo, options.signal);
  const take = async (entry: ArchiveEntry, open: () => Promise<AsyncIterable<Buffer>>) => {
    entries++;
    const first = entry.path.split('/')[0];
    if (first) top.add(first);
    if (out) await out.add(entry, entry.type === 'file' ? await open() : undefined);
  };

  try {
    if (options.format !== 'zip') {
      body.pipe(md5).pipe(sha);
      body.on('error', (error) => sha.destroy(error));
      md5.on('error', (error) => sha.destroy(error));
      for await (const { entry, body: content } of readTar(sha, { gzip: options.format === 'tgz', archive: options.archive, signal: options.signal })) {
        await take(entry, async () => content);
      }
      checkSize();
    } else {
      // A zip needs random access: a private temp file, removed whatever happens. Every entry is judged
      // (openZip) before the first one is written.
      const dir = await mkdtemp(join(tmpdir(), 'pkg-'));
      try {
        const file = join(dir, 'archive.zip');
        await pipeline(body, md5, sha, createWriteStream(file, { mode: 0o600 }), { signal: options.signal });
        checkSize();
        const zip = await openZip(file, options.archive);
        try {
          for (const entry of zip.entries) await take(entry, () => zip.open(entry) as Promise<Readable>);
        } finally {
          zip.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const normalised = out && (await out.finish());
    return { ...facts(), topLevel: [...top].sort(), entries, ...(normalised && { normalised }) };
  } catch (error) {
    await out?.abort(error as Error, store);
    throw error;
  }
}

/** Where normalised archives are written: a hidden prefix, removed after use (and expired by a bucket rule). */
export const NORMALISED_PREFIX = '.saltstack-unpack/';

/** A fresh place for the normalised archive of `source`: the artifact bucket when configured, else the package's own. */
export function normalisedRef(source: ParsedEndpoint, bucket: string | undefined): ObjectRef {
  const target = { bucket: bucket ?? source.bucket, key: `${NORMALISED_PREFIX}${randomBytes(12).toString('hex')}.tar.gz` };
  return { ...target, url: endpointFor(source, target) };
}
