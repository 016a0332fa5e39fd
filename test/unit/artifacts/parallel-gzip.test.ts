import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ParallelGzip, type ParallelGzipOptions } from '../../../lib/artifacts/parallel-gzip.js';

async function compress(data: Buffer, options: ParallelGzipOptions, chunk = 10_000): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) pieces.push(data.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const part of Readable.from(pieces).pipe(new ParallelGzip(options))) out.push(part as Buffer);
  return Buffer.concat(out);
}

const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i} of some repetitive configuration text\n`).join(''));
const mixed = Buffer.concat([text, randomBytes(300_000), text.subarray(0, 77_777)]);

describe('ParallelGzip', () => {
  it.each<[string, Buffer, ParallelGzipOptions]>([
    ['empty input', Buffer.alloc(0), {}],
    ['input smaller than one block', Buffer.from('hello\n'), {}],
    ['text over many small blocks', text, { blockSize: 65_536, concurrency: 3 }],
    ['mixed text and random bytes, block not a multiple of the chunk', mixed, { blockSize: 100_003, concurrency: 2 }],
    ['exactly one block', text.subarray(0, 65_536), { blockSize: 65_536 }],
  ])('round-trips %s through gunzip', async (_name, data, options) => {
    const gz = await compress(data, options);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 }).equals(data)).toBe(true);
  });

  it('writes a single gzip member, reproducibly', async () => {
    const a = await compress(text, { blockSize: 65_536 });
    const b = await compress(text, { blockSize: 65_536 }, 3_333);
    expect(a.equals(b)).toBe(true);
    expect(a.subarray(0, 4)).toEqual(Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(a.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 1)).toBe(-1);
  });

  it('compresses about as tightly as serial gzip at the same level', async () => {
    const parallel = await compress(text, { blockSize: 65_536, level: 6 });
    const serial = gzipSync(text, { level: 6 });
    expect(parallel.length).toBeLessThan(serial.length * 1.05);
  });
});
