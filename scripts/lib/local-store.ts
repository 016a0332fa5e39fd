/**
 * An ArtifactStore over a local directory (`<root>/<bucket>/<key>`): the benchmark runs the real
 * package-variable code path with it, so that it is compared with a shell pipeline on local files only.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../../lib/artifacts/artifact-store.js';
import type { ObjectRef } from '../../lib/artifacts/parse-endpoint.js';
import { ArtifactNotFoundError } from '../../lib/errors.js';

export class LocalStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  private path(ref: { bucket: string; key: string }): string {
    return join(this.root, ref.bucket, ref.key);
  }

  private async size(ref: ObjectRef): Promise<number> {
    try {
      return (await stat(this.path(ref))).size;
    } catch {
      throw new ArtifactNotFoundError(`S3 file ${ref.url} is not found.`);
    }
  }

  async get(ref: ObjectRef) {
    const size = await this.size(ref);
    return { body: createReadStream(this.path(ref), { highWaterMark: 256 * 1024 }), size };
  }

  async head(ref: ObjectRef) {
    return { size: await this.size(ref) };
  }

  async put(ref: ObjectRef, body: Readable) {
    await mkdir(dirname(this.path(ref)), { recursive: true });
    await pipeline(body, createWriteStream(this.path(ref)));
  }

  /** Like S3's server-side copy, costs the caller no data transfer: a hard link (a byte copy across filesystems). */
  async copy(from: ObjectRef, to: ObjectRef) {
    await mkdir(dirname(this.path(to)), { recursive: true });
    await rm(this.path(to), { force: true });
    await link(this.path(from), this.path(to)).catch(() => copyFile(this.path(from), this.path(to)));
  }

  async remove(ref: ObjectRef) {
    await rm(this.path(ref), { force: true });
  }

  async list(bucket: string, prefix: string, options: { startAfter?: string | undefined; limit?: number | undefined } = {}) {
    const root = join(this.root, bucket);
    const files = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    const all = files
      .filter((f) => f.isFile())
      .map((f) => join(f.parentPath, f.name).slice(root.length + 1))
      .filter((key) => key.startsWith(prefix) && (options.startAfter === undefined || key > options.startAfter))
      .sort();
    const limit = options.limit ?? 1000;
    return { keys: all.slice(0, limit), more: all.length > limit };
  }

  async presignGet(ref: ObjectRef) {
    return `file://${this.path(ref)}`;
  }
}
