/**
 * Generated packages for the substitution benchmark and the memory test: streamed into a tar.gz, never held
 * in memory whole. Content is deterministic (seeded), so a cached copy stays valid between runs.
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

export interface GeneratedFile {
  name: string;
  mode: number;
  size: number;
  /** The content, produced on demand in chunks. */
  chunks: () => Iterable<Buffer>;
}

/** Placeholders the generated conf files use, and the values the benchmark gives them. */
export const BENCH_VARIABLES: Record<string, string> = {
  port: '8080',
  db_host: 'db.internal.example.com',
  db_user: 'app_user',
  log_dir: '/var/log/app',
  heap: '2048m',
};

/** A seeded byte generator (sha256 in counter mode: fast enough, reproducible). */
function* pseudoRandom(seed: string, size: number): Iterable<Buffer> {
  let left = size;
  let counter = 0;
  while (left > 0) {
    const block = Buffer.alloc(Math.min(left, 64 * 1024));
    for (let at = 0; at < block.length; at += 32) {
      createHash('sha256').update(`${seed}:${counter++}`).digest().copy(block, at);
    }
    yield block;
    left -= block.length;
  }
}

const WORDS = 'alpha beta gamma delta epsilon service request timeout retry config value module handler cache queue'.split(' ');

/** Text lines of words (compresses about 4x, like source and config text). */
function* text(seed: number, size: number, placeholderEvery = 0): Iterable<Buffer> {
  let left = size;
  let x = seed * 2654435761;
  let line = 0;
  const names = Object.keys(BENCH_VARIABLES);
  while (left > 0) {
    const lines: string[] = [];
    for (let i = 0; i < 200; i++, line++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const words = Array.from({ length: 6 }, (_, k) => WORDS[(x >>> (k * 4)) % WORDS.length]).join(' ');
      const holder = placeholderEvery && line % placeholderEvery === 0 ? ` = [@${names[line % names.length]}]` : '';
      lines.push(`${WORDS[x % WORDS.length]}.${line}.key=${words}${holder}\n`);
    }
    const chunk = Buffer.from(lines.join(''));
    const piece = chunk.subarray(0, Math.min(left, chunk.length));
    yield piece;
    left -= piece.length;
  }
}

/**
 * The benchmark package (~105 MB, 2,000 files): 500 conf files with placeholders (~20 KB), 1,000 text
 * files (~40 KB), 500 binary files (~125 KB, incompressible like jars).
 */
export function benchFiles(): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  for (let i = 0; i < 500; i++) {
    files.push({ name: `app/conf/svc-${i}/application.properties`, mode: 0o640, size: 20_000, chunks: () => text(i, 20_000, 10) });
  }
  for (let i = 0; i < 1000; i++) {
    files.push({ name: `app/src/m${i % 50}/file-${i}.txt`, mode: 0o644, size: 40_000, chunks: () => text(10_000 + i, 40_000) });
  }
  for (let i = 0; i < 500; i++) {
    files.push({ name: `app/lib/lib-${i}.jar`, mode: 0o644, size: 125_000, chunks: () => pseudoRandom(`jar-${i}`, 125_000) });
  }
  return files;
}

/** Paths of the benchmark's conf files (the confFiles list, and the files the sed baseline edits). */
export const benchConfFiles = (): string[] =>
  benchFiles()
    .filter((f) => f.name.endsWith('.properties'))
    .map((f) => f.name);

/**
 * A package of `totalBytes` (1 GiB for the memory test): one conf file, then two big files, one of a 16 KiB
 * random block repeated (gzip sees the repeats) and one of zeros. Small once compressed, big once unpacked.
 */
export function hugeFiles(totalBytes: number): GeneratedFile[] {
  const half = Math.floor(totalBytes / 2);
  const block = Buffer.concat([...pseudoRandom('huge', 16 * 1024)]);
  const repeat = function* (size: number, unit: Buffer): Iterable<Buffer> {
    const chunk = Buffer.concat(Array.from({ length: 64 }, () => unit));
    let left = size;
    while (left > 0) {
      const piece = chunk.subarray(0, Math.min(left, chunk.length));
      yield piece;
      left -= piece.length;
    }
  };
  return [
    { name: 'big/conf/app.properties', mode: 0o644, size: 64, chunks: () => [Buffer.from('port=[@port]\nhost=[@db_host]\n'.padEnd(64, '#'))] },
    { name: 'big/data/blocks.bin', mode: 0o644, size: half, chunks: () => repeat(half, block) },
    { name: 'big/data/zeros.bin', mode: 0o644, size: totalBytes - half, chunks: () => repeat(totalBytes - half, Buffer.alloc(16 * 1024)) },
  ];
}

/** Streams the files as a tar.gz into `out`. */
export async function packTgz(files: GeneratedFile[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, createGzip({ chunkSize: 64 * 1024 }), out);
  const mtime = new Date(Date.UTC(2025, 0, 1));
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      await new Promise<void>((resolve, reject) => pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime }, (e) => (e ? reject(e) : resolve())));
    }
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ name: file.name, size: file.size, mode: file.mode, mtime }, (e) => (e ? reject(e) : resolve()));
      (async () => {
        for (const chunk of file.chunks()) {
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
        }
        sink.end(undefined);
      })().catch(reject);
    });
  }
  pack.finalize();
  await writing;
}
