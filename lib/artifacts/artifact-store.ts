import type { Readable } from 'node:stream';
import type { ObjectRef } from './parse-endpoint.js';

export interface StoreCallOptions {
  signal?: AbortSignal | undefined;
}

/**
 * Where packages are read from and written to. `S3Store` is the real one; the benchmark plugs in a local
 * directory. Every method throws ArtifactNotFoundError for a missing object (naming its URL) and
 * ArtifactStoreError for any other failure; never a raw SDK error.
 */
export interface ArtifactStore {
  /** Streams an object's content. */
  get(ref: ObjectRef, options?: StoreCallOptions): Promise<{ body: Readable; size: number | undefined }>;
  /** The object's size, or ArtifactNotFoundError. */
  head(ref: ObjectRef, options?: StoreCallOptions): Promise<{ size: number }>;
  /** Writes a stream of unknown length (multipart above one part). */
  put(ref: ObjectRef, body: Readable, options?: StoreCallOptions): Promise<void>;
  /** Server-side copy. */
  copy(from: ObjectRef, to: ObjectRef, options?: StoreCallOptions): Promise<void>;
  remove(ref: ObjectRef, options?: StoreCallOptions): Promise<void>;
  /** A short-lived GET URL a host can fetch without credentials. */
  presignGet(ref: ObjectRef, expiresS: number): Promise<string>;
}
