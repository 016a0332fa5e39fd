/**
 * An image layer written from a list of entries (directories, files copied from disk, inline content),
 * root-owned unless said otherwise, with one fixed mtime: the same inputs give the same layer digest.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createTarWriter } from '../../lib/artifacts/write-archive.js';

export type LayerEntry =
  | { type: 'directory'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'file'; path: string; mode?: number; uid?: number; gid?: number; from: string }
  | { type: 'file'; path: string; mode?: number; uid?: number; gid?: number; content: Buffer | string };

/** Writes the layer tar `outFile`; paths are absolute in the image (`/usr/local/bin/node`). Throws on a missing source. */
export async function writeLayer(outFile: string, entries: readonly LayerEntry[], mtime: Date): Promise<void> {
  const out = createTarWriter(createWriteStream(outFile), { gzip: false });
  try {
    for (const entry of entries) {
      if (!entry.path.startsWith('/') || entry.path.split('/').includes('..')) throw new Error(`layer path ${JSON.stringify(entry.path)} is not absolute`);
      const name = entry.path.slice(1) + (entry.type === 'directory' ? '/' : '');
      const owner = { uid: entry.uid ?? 0, gid: entry.gid ?? 0, uname: '', gname: '' };
      if (entry.type === 'directory') {
        await out.add({ name, type: 'directory', mode: entry.mode ?? 0o755, mtime, ...owner });
      } else if ('from' in entry) {
        await out.add({ name, size: statSync(entry.from).size, mode: entry.mode ?? 0o644, mtime, ...owner }, createReadStream(entry.from));
      } else {
        const body = Buffer.from(entry.content);
        await out.add({ name, size: body.length, mode: entry.mode ?? 0o644, mtime, ...owner }, body);
      }
    }
    await out.finish();
  } catch (error) {
    out.abort(error as Error);
    throw error;
  }
}
