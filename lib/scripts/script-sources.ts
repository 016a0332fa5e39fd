import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { ObjectRef } from '../artifacts/parse-endpoint.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ScriptSource } from './plan-scripts.js';

export interface ScriptSourceOptions {
  store: ArtifactStore;
  /** Bucket for inline content (the artifact bucket); needed only by USER_PARAM. */
  bucket: string | undefined;
  /** Key prefix of the temporary objects holding inline content. */
  tempPrefix: string;
  presignExpiresS: number;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Presigned GET URLs for the scripts of one request. S3 scripts are checked to exist first (a clear
 * "not found" instead of a salt traceback). Inline content is uploaded once per distinct content under a
 * temporary key of the artifact bucket, so it never travels in salt job arguments (which the master keeps
 * in its job cache), and removed by `cleanup()`.
 *
 * `variant` makes URLs of the same object differ (the expiry moves by a second): the minion caches a
 * download under the URL's path and query, so two jobs on one host must not share a URL.
 */
export class ScriptSources {
  private readonly checked = new Map<string, Promise<void>>();
  private readonly uploaded = new Map<string, Promise<ObjectRef>>();
  private readonly urls = new Map<string, Promise<string>>();
  private readonly requestId = randomUUID();

  constructor(private readonly options: ScriptSourceOptions) {}

  private id = (ref: { bucket: string; key: string }) => `${ref.bucket}/${ref.key}`;

  private async objectOf(source: Exclude<ScriptSource, { kind: 'local' }>): Promise<ObjectRef> {
    const { store, signal } = this.options;
    if (source.kind === 's3') {
      const ref = source.ref;
      let check = this.checked.get(this.id(ref));
      if (!check) {
        check = store.head(ref, { signal }).then(() => undefined);
        this.checked.set(this.id(ref), check);
      }
      await check;
      return ref;
    }
    const digest = createHash('sha256').update(source.content).digest('hex');
    let upload = this.uploaded.get(digest);
    if (!upload) {
      upload = this.upload(source.content, digest);
      this.uploaded.set(digest, upload);
    }
    return upload;
  }

  private async upload(content: string, digest: string): Promise<ObjectRef> {
    const { store, bucket, tempPrefix, signal } = this.options;
    if (!bucket) throw new ConfigError('S3_BUCKET must be set to run inline scripts (USER_PARAM): their content is staged there');
    const key = `${tempPrefix}${this.requestId}/${digest.slice(0, 16)}.sh`;
    const ref = { bucket, key, url: `s3://${bucket}/${key}` };
    await store.put(ref, Readable.from([Buffer.from(content, 'utf8')]), { signal });
    return ref;
  }

  /** A presigned URL of the script; throws ArtifactNotFoundError / ArtifactStoreError / ConfigError. */
  async url(source: Exclude<ScriptSource, { kind: 'local' }>, variant: number): Promise<string> {
    const ref = await this.objectOf(source);
    const key = `${this.id(ref)}#${variant}`;
    let url = this.urls.get(key);
    if (!url) {
      url = this.options.store.presignGet(ref, this.options.presignExpiresS + variant);
      this.urls.set(key, url);
    }
    return url;
  }

  /** Removes the temporary objects of inline scripts; failures are logged, never thrown. */
  async cleanup(): Promise<void> {
    const refs = await Promise.allSettled(this.uploaded.values());
    await Promise.all(
      refs.map(async (r) => {
        if (r.status !== 'fulfilled') return;
        try {
          await this.options.store.remove(r.value);
        } catch (error) {
          this.options.logger.warn('could not remove a temporary script object', { key: r.value.key, error });
        }
      }),
    );
  }
}
