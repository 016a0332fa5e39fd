import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through that hashes (md5 by default) and counts what goes through it. */
export class HashingStream extends Transform {
  private readonly hash: Hash;
  bytes = 0;

  constructor(algorithm = 'md5') {
    super({ highWaterMark: 1024 * 1024 });
    this.hash = createHash(algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** The hex digest; call once, after the stream has finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
