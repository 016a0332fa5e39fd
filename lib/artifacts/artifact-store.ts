import type { Readable } from 'node:stream';
import type { ObjectRef } from './parse-endpoint.js';

export interface StoreCallOptions {
  signal?: AbortSignal | undefined;
}

/** Server-side encryption of a written object (records holding secrets): SSE-KMS, with a key or the default one. */
export interface PutOptions extends StoreCallOptions {
  encryption?: { sse: 'aws:kms'; kmsKeyId?: string | undefined } | undefined;
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
  put(ref: ObjectRef, body: Readable, options?: PutOptions): Promise<void>;
  /** Server-side copy. */
  copy(from: ObjectRef, to: ObjectRef, options?: StoreCallOptions): Promise<void>;
  remove(ref: ObjectRef, options?: StoreCallOptions): Promise<void>;
  /** A short-lived GET URL a host can fetch without credentials. */
  presignGet(ref: ObjectRef, expiresS: number): Promise<string>;
}
