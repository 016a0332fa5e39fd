import type { S3Client } from '@aws-sdk/client-s3';
import { PassThrough, type Readable } from 'node:stream';
import { ArtifactNotFoundError, ArtifactStoreError, PluginError } from '../errors.js';
import type { ArtifactStore, ListOptions, PutOptions, StoreCallOptions } from './artifact-store.js';
import type { ObjectRef } from './parse-endpoint.js';

export interface S3Settings {
  /** Custom endpoint (MinIO, s3rver...); undefined means AWS S3. */
  endpoint: string | undefined;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  forcePathStyle: boolean;
}

/** Multipart upload: parts of 8 MiB, 4 in flight, so an upload holds at most ~32 MiB whatever its size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

type SdkError = { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };

/**
 * The facts of an SDK failure as one of our errors. The SDK error object itself is dropped: it carries the
 * request (headers, signed URL) and must not reach a log.
 */
export function translateS3Error(error: unknown, ref: ObjectRef, verb: 'download' | 'upload' | 'copy' | 'delete' | 'list'): PluginError {
  if (error instanceof PluginError) return error;
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.name === 'NoSuchBucket' || status === 404) {
    return new ArtifactNotFoundError(`S3 file ${ref.url} is not found.`);
  }
  const detail = [e.name, status ? `HTTP ${status}` : '', (e.message ?? '').slice(0, 200)].filter(Boolean).join(' ');
  switch (verb) {
    case 'download':
      return new ArtifactStoreError(`Failed to download ${ref.url} from S3, details: ${detail}`);
    case 'upload':
      return new ArtifactStoreError(`Failed to upload file ${ref.url} to S3: ${detail}`);
    default:
      return new ArtifactStoreError(`Failed to ${verb} ${ref.url} in S3: ${detail}`);
  }
}

/**
 * The SDK is imported on first use, not at module load: the Lambda runtime provides it (the bundles leave
 * `@aws-sdk/*` out) and a function that never touches S3 never pays for loading it.
 */
const loadSdk = async () => {
  const [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return { s3, storage };
};
type Sdk = Awaited<ReturnType<typeof loadSdk>>;
let sdkLoading: Promise<Sdk> | undefined;
const sdk = () => (sdkLoading ??= loadSdk());

/** An S3 client made on first use (with the SDK). */
export interface S3ClientHandle {
  client(): Promise<S3Client>;
}

/** The S3 client for `settings`: endpoint, region and credentials from config, checksums only where required. */
export function createS3Client(settings: S3Settings): S3ClientHandle {
  let made: Promise<S3Client> | undefined;
  return { client: () => (made ??= sdk().then(({ s3 }) => newClient(s3.S3Client, settings))) };
}

function newClient(S3: typeof S3Client, settings: S3Settings): S3Client {
  return new S3({
    region: settings.region,
    ...(settings.endpoint && { endpoint: settings.endpoint }),
    ...(settings.credentials && { credentials: settings.credentials }),
    forcePathStyle: settings.forcePathStyle,
    // The SDK's default (CRC32 on every request, aws-chunked streaming uploads) is refused or mangled by
    // several S3-compatible servers; WHEN_REQUIRED sends plain bodies like every other client.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
}

const copySource = (ref: ObjectRef) => `${ref.bucket}/${ref.key}`.split('/').map(encodeURIComponent).join('/');

/** ArtifactStore over S3 (or any S3-compatible server). */
export class S3Store implements ArtifactStore {
  constructor(private readonly handle: S3ClientHandle) {}

  async get(ref: ObjectRef, options: StoreCallOptions = {}) {
    let response;
    try {
      const [client, { s3 }] = await Promise.all([this.handle.client(), sdk()]);
      response = await client.send(new s3.GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw translateS3Error(error, ref, 'download');
    }
    // A failure mid-body (reset connection) must surface as ours too, not as a raw socket error.
    const raw = response.Body as Readable;
    const body = new PassThrough({ highWaterMark: 256 * 1024 });
    raw.on('error', (error) => body.destroy(translateS3Error(error, ref, 'download')));
    body.on('close', () => raw.destroy());
    raw.pipe(body);
    return { body, size: response.ContentLength };
  }

  async head(ref: ObjectRef, options: StoreCallOptions = {}) {
    try {
      const [client, { s3 }] = await Promise.all([this.handle.client(), sdk()]);
      const response = await client.send(new s3.HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }), {
        abortSignal: options.signal,
      });
      return { size: response.ContentLength ?? 0 };
    } catch (error) {
      throw translateS3Error(error, ref, 'download');
    }
  }

  async put(ref: ObjectRef, body: Readable, options: PutOptions = {}) {
    let upload;
    try {
      const [client, { storage }] = await Promise.all([this.handle.client(), sdk()]);
      upload = new storage.Upload({
        client,
        params: {
          Bucket: ref.bucket,
          Key: ref.key,
          Body: body,
          ...(options.encryption && {
            ServerSideEncryption: options.encryption.sse,
            ...(options.encryption.kmsKeyId && { SSEKMSKeyId: options.encryption.kmsKeyId }),
          }),
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
    } catch (error) {
      throw translateS3Error(error, ref, 'upload');
    }
    const abort = () => void upload.abort().catch(() => undefined);
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      // The body's own error (a refused archive entry) is what the caller needs to see.
      const reason = (body as { errored?: unknown }).errored ?? error;
      throw translateS3Error(reason, ref, 'upload');
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  async copy(from: ObjectRef, to: ObjectRef, options: StoreCallOptions = {}) {
    try {
      const [client, { s3 }] = await Promise.all([this.handle.client(), sdk()]);
      await client.send(new s3.CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource: copySource(from) }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw translateS3Error(error, from, 'copy');
    }
  }

  async remove(ref: ObjectRef, options: StoreCallOptions = {}) {
    try {
      const [client, { s3 }] = await Promise.all([this.handle.client(), sdk()]);
      await client.send(new s3.DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }), { abortSignal: options.signal });
    } catch (error) {
      throw translateS3Error(error, ref, 'delete');
    }
  }

  async list(bucket: string, prefix: string, options: ListOptions = {}) {
    try {
      const [client, { s3 }] = await Promise.all([this.handle.client(), sdk()]);
      // ListObjects (v1) with Marker: the same page as v2's StartAfter on AWS, and s3rver answers a truncated
      // v2 listing with a 500 (its continuation token is DES-encrypted, which OpenSSL 3 refuses).
      const out = await client.send(new s3.ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: options.startAfter, MaxKeys: options.limit ?? 1000 }), {
        abortSignal: options.signal,
      });
      return { keys: (out.Contents ?? []).map((o) => o.Key!).filter(Boolean), more: !!out.IsTruncated };
    } catch (error) {
      throw translateS3Error(error, { bucket, key: prefix, url: `s3://${bucket}/${prefix}` }, 'list');
    }
  }

  async presignGet(ref: ObjectRef, expiresS: number): Promise<string> {
    const [client, { s3 }, { getSignedUrl }] = await Promise.all([this.handle.client(), sdk(), import('@aws-sdk/s3-request-presigner')]);
    return getSignedUrl(client, new s3.GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), { expiresIn: expiresS });
  }
}
