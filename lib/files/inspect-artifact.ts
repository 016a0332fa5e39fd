import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactStoreError } from '../errors.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { HashingStream } from '../artifacts/hashing-stream.js';
import type { ArchiveFormat } from '../artifacts/package-name.js';
import type { ObjectRef } from '../artifacts/parse-endpoint.js';
import { openZip, readTar } from '../artifacts/read-archive.js';

/** What the handler knows of an object before any host sees it. */
export interface ArtifactFacts {
  size: number;
  md5: string;
  sha256: string;
  /** Archives only: the names directly under the archive root, sorted. */
  topLevel?: string[];
  /** Archives only: how many entries it has. */
  entries?: number;
}

const sink = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

/**
 * Reads an object once from the store: its md5 (WeCube's `detail`) and sha256 (the `source_hash` the minion
 * verifies its download against, so the host gets exactly these bytes). With `format`, every entry is
 * checked for zip-slip (absolute names, `..`, links pointing out) while streaming, so that a bad archive
 * is refused before anything is written on a host. Throws InputError (bad archive), ArtifactNotFoundError,
 * ArtifactStoreError.
 */
export async function inspectArtifact(
  store: ArtifactStore,
  ref: ObjectRef,
  options: { format?: ArchiveFormat | undefined; archive: string; signal?: AbortSignal | undefined },
): Promise<ArtifactFacts> {
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
    await pipeline(body, md5, sha, sink(), { signal: options.signal });
    checkSize();
    return facts();
  }

  const top = new Set<string>();
  let entries = 0;
  const note = (path: string) => {
    entries++;
    const first = path.split('/')[0];
    if (first) top.add(first);
  };

  if (options.format !== 'zip') {
    body.pipe(md5).pipe(sha);
    body.on('error', (error) => sha.destroy(error));
    md5.on('error', (error) => sha.destroy(error));
    for await (const { entry } of readTar(sha, { gzip: options.format === 'tgz', archive: options.archive, signal: options.signal })) {
      note(entry.path);
    }
    checkSize();
    return { ...facts(), topLevel: [...top].sort(), entries };
  }

  // A zip needs random access: a private temp file, removed whatever happens.
  const dir = await mkdtemp(join(tmpdir(), 'copy-'));
  try {
    const file = join(dir, 'archive.zip');
    await pipeline(body, md5, sha, createWriteStream(file, { mode: 0o600 }), { signal: options.signal });
    checkSize();
    const zip = await openZip(file, options.archive);
    try {
      for (const entry of zip.entries) note(entry.path);
    } finally {
      zip.close();
    }
    return { ...facts(), topLevel: [...top].sort(), entries };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
