import { Transform } from 'node:stream';
import type { Prefix } from './placeholder-prefixes.js';
import { scanBytes, type Placeholder } from './scan-placeholders.js';
import { LineSplitter } from './split-lines.js';

/**
 * Decides what one placeholder becomes: its replacement text, or undefined to leave it as it is (an unknown
 * variable, or a whole-file `^` placeholder, which upstream leaves in the line). May throw to abort.
 */
export type Resolver = (placeholder: Placeholder, line: number) => string | undefined;

/**
 * The replacement engine over a byte stream (upstream §8.5, minus its damage): every placeholder the
 * resolver gives a value is replaced by that value (UTF-8); every other byte, line endings and the final
 * newline included, is copied unchanged, so a file without placeholders comes out byte-identical. The
 * line is scanned once, so a value that itself looks like a placeholder is not substituted again.
 */
export class Substituter {
  private out: Buffer[] = [];
  private readonly splitter: LineSplitter;

  constructor(prefixes: readonly Prefix[], resolve: Resolver) {
    this.splitter = new LineSplitter((segment, line) => {
      const placeholders = scanBytes(segment, prefixes);
      let kept = 0;
      for (const ph of placeholders) {
        const value = resolve(ph, line);
        if (value === undefined) continue;
        if (ph.start > kept) this.out.push(segment.subarray(kept, ph.start));
        this.out.push(Buffer.from(value, 'utf8'));
        kept = ph.end;
      }
      this.out.push(kept ? segment.subarray(kept) : segment);
    });
  }

  /** Feeds a chunk; returns the output it completes. */
  push(chunk: Buffer): Buffer[] {
    this.splitter.push(chunk);
    return this.take();
  }

  /** Ends the input; returns the rest of the output. */
  end(): Buffer[] {
    this.splitter.end();
    return this.take();
  }

  private take(): Buffer[] {
    const out = this.out.filter((b) => b.length > 0);
    this.out = [];
    return out;
  }
}

/** The engine as a stream. */
export function substitutionStream(prefixes: readonly Prefix[], resolve: Resolver): Transform {
  const engine = new Substituter(prefixes, resolve);
  const emit = (stream: Transform, parts: Buffer[]) => {
    if (parts.length === 1) stream.push(parts[0]);
    else if (parts.length > 1) stream.push(Buffer.concat(parts));
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        emit(this, engine.push(chunk));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        emit(this, engine.end());
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/** The engine over a whole buffer (small inputs, tests). */
export function substituteBuffer(input: Buffer, prefixes: readonly Prefix[], resolve: Resolver): Buffer {
  const engine = new Substituter(prefixes, resolve);
  return Buffer.concat([...engine.push(input), ...engine.end()]);
}
