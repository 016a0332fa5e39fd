/** An in-memory ArtifactStore for unit tests (injected through the operation's deps, no module mocking). */
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../../../lib/artifacts/artifact-store.js';
import type { ObjectRef } from '../../../lib/artifacts/parse-endpoint.js';
import { ArtifactNotFoundError } from '../../../lib/errors.js';

export class MemoryStore implements ArtifactStore {
  readonly objects = new Map<string, Buffer>();
  readonly calls: string[] = [];

  private id = (ref: { bucket: string; key: string }) => `${ref.bucket}/${ref.key}`;

  set(bucket: string, key: string, data: Buffer): void {
    this.objects.set(`${bucket}/${key}`, data);
  }

  read(bucket: string, key: string): Buffer | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }

  private must(ref: ObjectRef): Buffer {
    const data = this.objects.get(this.id(ref));
    if (!data) throw new ArtifactNotFoundError(`S3 file ${ref.url} is not found.`);
    return data;
  }

  async get(ref: ObjectRef) {
    this.calls.push(`get ${this.id(ref)}`);
    const data = this.must(ref);
    // Small chunks, so that readers see entries split across chunk boundaries.
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += 7000) chunks.push(data.subarray(i, i + 7000));
    return { body: Readable.from(chunks), size: data.length };
  }

  async head(ref: ObjectRef) {
    return { size: this.must(ref).length };
  }

  async put(ref: ObjectRef, body: Readable) {
    this.calls.push(`put ${this.id(ref)}`);
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(chunk as Buffer);
    this.objects.set(this.id(ref), Buffer.concat(parts));
  }

  async copy(from: ObjectRef, to: ObjectRef) {
    this.calls.push(`copy ${this.id(from)} -> ${this.id(to)}`);
    this.objects.set(this.id(to), this.must(from));
  }

  async remove(ref: ObjectRef) {
    this.calls.push(`remove ${this.id(ref)}`);
    this.objects.delete(this.id(ref));
  }

  async list(bucket: string, prefix: string, options: { startAfter?: string | undefined; limit?: number | undefined } = {}) {
    this.calls.push(`list ${bucket}/${prefix}`);
    const all = [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}/${prefix}`))
      .map((id) => id.slice(bucket.length + 1))
      .filter((key) => options.startAfter === undefined || key > options.startAfter)
      .sort();
    const limit = options.limit ?? 1000;
    return { keys: all.slice(0, limit), more: all.length > limit };
  }

  async presignGet(ref: ObjectRef, expiresS: number) {
    return `${ref.url}?expires=${expiresS}`;
  }
}
