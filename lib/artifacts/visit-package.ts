import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from './artifact-store.js';
import type { ArchiveFormat } from './package-name.js';
import type { ObjectRef } from './parse-endpoint.js';
import { openZip, readTar, type ArchiveEntry } from './read-archive.js';

/** Called per entry; `open` gives its content (tar: only during the call). Return false to stop early. */
export type EntryVisitor = (entry: ArchiveEntry, open: () => Promise<AsyncIterable<Buffer>>) => Promise<boolean | void>;

export interface VisitOptions {
  store: ArtifactStore;
  ref: ObjectRef;
  format: ArchiveFormat;
  /** The package's file name, for messages. */
  archive: string;
  signal?: AbortSignal | undefined;
}

/** Streams an object into a fresh directory under the OS temp dir; returns the file and a cleanup. */
export async function downloadToTemp(store: ArtifactStore, ref: ObjectRef, signal?: AbortSignal) {
  const dir = await mkdtemp(join(tmpdir(), 'pkg-'));
  const file = join(dir, 'package');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const { body } = await store.get(ref, { signal });
    await pipeline(body, createWriteStream(file, { mode: 0o600 }), { signal });
    return { file, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Walks the entries of a package in S3, every entry checked against zip-slip first. A tar streams straight
 * from S3; a zip (random access) is downloaded to the OS temp dir and removed afterwards. Nothing is kept
 * between calls.
 */
export async function visitPackage(options: VisitOptions, visit: EntryVisitor): Promise<void> {
  if (options.format !== 'zip') {
    const { body } = await options.store.get(options.ref, { signal: options.signal });
    const entries = readTar(body, { gzip: options.format === 'tgz', archive: options.archive, signal: options.signal });
    for await (const { entry, body: content } of entries) {
      if ((await visit(entry, async () => content)) === false) break;
    }
    return;
  }
  const local = await downloadToTemp(options.store, options.ref, options.signal);
  try {
    const zip = await openZip(local.file, options.archive);
    try {
      for (const entry of zip.entries) {
        if ((await visit(entry, () => zip.open(entry))) === false) break;
      }
    } finally {
      zip.close();
    }
  } finally {
    await local.cleanup();
  }
}
