import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import yazl from 'yazl';
import { ParallelGzip } from './parallel-gzip.js';

/** A tar header to write: a name, and whatever else differs from tar-stream's defaults. */
export type TarHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

export interface TarWriter {
  /** Appends an entry; a file's body must have exactly `header.size` bytes. Resolves when it is written. */
  add(header: TarHeader, body?: AsyncIterable<Buffer> | Buffer): Promise<void>;
  /** Writes the end of the archive and waits until `dest` has everything. */
  finish(): Promise<void>;
  /** Stops with an error (the destination is destroyed with it). */
  abort(error: Error): void;
}

/** Writes a tar (gzip-compressed when asked) into `dest`, streaming, one entry at a time. */
export function createTarWriter(dest: Writable, options: { gzip: boolean; signal?: AbortSignal }): TarWriter {
  const pack = tar.pack();
  const stages: NodeJS.ReadWriteStream[] = options.gzip ? [new ParallelGzip()] : [];
  const done = pipeline([pack as unknown as NodeJS.ReadableStream, ...stages, dest], { signal: options.signal });
  done.catch(() => undefined);
  return {
    add: (header, body) =>
      new Promise<void>((resolve, reject) => {
        const finished = (error?: Error | null) => (error ? reject(error) : resolve());
        if (body === undefined || Buffer.isBuffer(body)) {
          pack.entry(header, body ?? Buffer.alloc(0), finished);
          return;
        }
        const sink = pack.entry(header, finished);
        (async () => {
          for await (const chunk of body) {
            if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
          }
          sink.end(undefined);
        })().catch((error: Error) => {
          sink.destroy(error);
          reject(error);
        });
      }),
    finish: async () => {
      pack.finalize();
      await done;
    },
    abort: (error) => {
      pack.destroy(error);
      dest.destroy(error);
    },
  };
}

export interface ZipEntrySpec {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits. */
  mode: number;
  mtime: Date;
  /** Deflate the content (false keeps a stored entry stored). */
  deflate?: boolean;
}

export interface ZipWriter {
  /** Queues an entry; `open` is called when the writer gets to it, so entries may be queued all at once. */
  add(spec: ZipEntrySpec, content?: Buffer | (() => Promise<Readable>)): void;
  finish(): Promise<void>;
  abort(error: Error): void;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Writes a zip into `dest` (yazl: sizes are not needed up front, data descriptors follow each entry). */
export function createZipWriter(dest: Writable, options: { signal?: AbortSignal } = {}): ZipWriter {
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as unknown as Readable;
  zip.on('error', (error: Error) => output.destroy(error));
  const done = pipeline(output, dest, { signal: options.signal });
  done.catch(() => undefined);
  return {
    add: (spec, content) => {
      const base = { mtime: spec.mtime };
      if (spec.type === 'directory') {
        zip.addEmptyDirectory(spec.name, { ...base, mode: S_IFDIR | spec.mode });
      } else if (spec.type === 'symlink' || Buffer.isBuffer(content) || content === undefined) {
        const type = spec.type === 'symlink' ? S_IFLNK : S_IFREG;
        zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.alloc(0), spec.name, {
          ...base,
          mode: type | spec.mode,
          compress: spec.type !== 'symlink' && spec.deflate !== false,
        });
      } else {
        zip.addReadStreamLazy(spec.name, { ...base, mode: S_IFREG | spec.mode, compress: spec.deflate !== false }, (callback) => {
          content().then(
            (stream) => callback(null, stream),
            (error: Error) => callback(error, undefined as unknown as Readable),
          );
        });
      }
    },
    finish: async () => {
      zip.end();
      await done;
    },
    abort: (error) => {
      output.destroy(error);
      dest.destroy(error);
    },
  };
}
