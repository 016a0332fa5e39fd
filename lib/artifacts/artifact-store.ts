import type { Readable } from 'node:stream';
import type { ObjectRef } from './parse-endpoint.js';

export interface StoreCallOptions {
  signal?: AbortSignal | undefined;
}

/** Server-side encryption of a written object (records holding secrets): SSE-KMS, with a key or the default one. */
export interface PutOptions extends StoreCallOptions {
  encryption?: { sse: 'aws:kms'; kmsKeyId?: string | undefined } | undefined;
}

/** A page of keys (ListObjectsV2): ascending, after `startAfter`, at most `limit` (1-1000). */
export interface ListOptions extends StoreCallOptions {
  startAfter?: string | undefined;
  limit?: number | undefined;
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
  /** Keys under `prefix` in `bucket`, in ascending order; `more` when the page was cut at `limit`. */
  list(bucket: string, prefix: string, options?: ListOptions): Promise<{ keys: string[]; more: boolean }>;
  /** A short-lived GET URL a host can fetch without credentials. */
  presignGet(ref: ObjectRef, expiresS: number): Promise<string>;
}
