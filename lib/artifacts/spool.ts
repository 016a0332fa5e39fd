import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Content held until its size is known (a tar header needs it before the data). */
export interface Spooled {
  size: number;
  open(): Readable;
  dispose(): Promise<void>;
}

/** Conf files are small; a big one goes to disk so memory stays bounded whatever the package holds. */
export const SPOOL_MEMORY_LIMIT = 4 * 1024 * 1024;

/** Reads a stream to its end, in memory up to `limit` bytes, beyond that in a file under `dir`. */
export async function spool(source: AsyncIterable<Buffer>, dir: string, limit = SPOOL_MEMORY_LIMIT): Promise<Spooled> {
  const chunks: Buffer[] = [];
  let size = 0;
  let file: string | undefined;
  let out: ReturnType<typeof createWriteStream> | undefined;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (!out && size > limit) {
        file = join(dir, `spool-${randomUUID()}`);
        out = createWriteStream(file, { mode: 0o600 });
        for (const held of chunks) out.write(held);
        chunks.length = 0;
      }
      if (out) {
        if (!out.write(chunk)) await new Promise<void>((resolve) => out!.once('drain', () => resolve()));
      } else chunks.push(chunk);
    }
    if (out) {
      out.end();
      await finished(out);
    }
  } catch (error) {
    out?.destroy();
    if (file) await rm(file, { force: true });
    throw error;
  }
  if (file) {
    const path = file;
    return { size, open: () => createReadStream(path), dispose: () => rm(path, { force: true }) };
  }
  const data = Buffer.concat(chunks);
  return { size, open: () => Readable.from([data]), dispose: async () => undefined };
}
