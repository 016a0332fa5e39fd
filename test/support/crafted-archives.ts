/**
 * Hand-made archives that try to make two readers disagree: raw tar headers (any type flag, prefix field,
 * PAX global and local records, GNU long names) and zip entries with any "made by", external attributes and
 * extra fields. Every name they aim outside the root is relative to a canary directory the test owns
 * (`../<canary>/...`), never a real system file.
 */
import { gzipSync } from 'node:zlib';
import yazl from 'yazl';

export interface RawTarEntry {
  name: string;
  /** Type flag character: '0' file, '\0' old file, '1' hard link, '2' symlink, '5' dir, 'x' pax, 'g' pax global, 'L' GNU long name, 'S' sparse... */
  flag?: string;
  body?: Buffer | string;
  linkname?: string;
  /** ustar prefix field (bytes 345-500). */
  prefix?: string;
  mode?: number;
  /** 'ustar' (POSIX, default) or 'gnu' magic. */
  magic?: 'ustar' | 'gnu';
}

const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';

function header(e: RawTarEntry, size: number): Buffer {
  const buf = Buffer.alloc(512);
  buf.write(e.name, 0, 100, 'utf8');
  buf.write(octal(e.mode ?? (e.flag === '5' ? 0o755 : 0o644), 8), 100, 'ascii');
  buf.write(octal(0, 8), 108, 'ascii');
  buf.write(octal(0, 8), 116, 'ascii');
  buf.write(octal(size, 12), 124, 'ascii');
  buf.write(octal(1_700_000_000, 12), 136, 'ascii');
  buf.write(e.flag ?? '0', 156, 1, 'latin1');
  if (e.linkname) buf.write(e.linkname, 157, 100, 'utf8');
  if (e.magic === 'gnu') buf.write('ustar  \0', 257, 'latin1');
  else buf.write('ustar\u000000', 257, 'latin1');
  if (e.prefix) buf.write(e.prefix, 345, 155, 'utf8');
  buf.fill(' ', 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(octal(sum, 7) + ' ', 148, 'ascii');
  return buf;
}

/** A pax record body (`<len> key=value\n`, the length counting itself). */
export function paxRecords(records: Record<string, string>): Buffer {
  let out = '';
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
    out += `${len}${rest}`;
  }
  return Buffer.from(out, 'utf8');
}

/** A tar (gzip-compressed unless `gzip` is false) of raw entries, in order, with the two zero blocks. */
export function rawTarBytes(entries: RawTarEntry[], gzip = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
    parts.push(header(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  const raw = Buffer.concat(parts);
  return gzip ? gzipSync(raw) : raw;
}

export interface RawZipEntry {
  name: string;
  body?: string;
  /** Host system of "version made by" (0 MS-DOS, 3 unix). */
  madeBy?: number;
  /** Unix mode in the high half of the external attributes (with its S_IF* type bits). */
  unixMode?: number;
  /** Give the entry an Info-ZIP Unicode Path extra field (0x7075). */
  unicodePath?: boolean;
  /**
   * The name written in both headers instead of `name` (same byte length), for names yazl refuses to
   * write (`/tmp/x`, `a/../b`): the entry is written as `name`, then its name bytes are overwritten.
   */
  rawName?: string;
}

/** A zip written by yazl, then patched in its central directory: "made by", external attributes, extra field. */
export async function rawZipBytes(entries: RawZipEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const mtime = new Date(1_700_000_000_000);
    if (e.name.endsWith('/')) zip.addEmptyDirectory(e.name, { mtime });
    else zip.addBuffer(Buffer.from(e.body ?? ''), e.name, { mtime, compress: false });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  const data = Buffer.concat(chunks);
  // Local headers (name at 30) and central records (name at 46) carry the name: rename both.
  for (const [signature, at] of [
    [0x04034b50, 30],
    [0x02014b50, 46],
  ] as const) {
    let index = 0;
    for (let i = 0; i + at <= data.length; i++) {
      if (data.readUInt32LE(i) !== signature) continue;
      const e = entries[index++];
      if (!e) break;
      if (e.rawName === undefined) continue;
      const raw = Buffer.from(e.rawName);
      if (raw.length !== data.readUInt16LE(i + 26 + (at === 46 ? 2 : 0))) throw new Error(`rawName ${e.rawName} must have the byte length of ${e.name}`);
      raw.copy(data, i + at);
    }
  }
  let index = 0;
  for (let i = 0; i + 46 <= data.length; i++) {
    if (data.readUInt32LE(i) !== 0x02014b50) continue;
    const e = entries[index++];
    if (!e) break;
    if (e.madeBy !== undefined) data.writeUInt8(e.madeBy, i + 5);
    if (e.unixMode !== undefined) data.writeUInt32LE((e.unixMode << 16) >>> 0, i + 38);
    // yazl's central record carries one extra field (Info-ZIP "UT", 0x5455) right after the name:
    // retagging it makes a Unicode Path field that a reader preferring it would take the name from.
    if (e.unicodePath !== undefined) data.writeUInt16LE(0x7075, i + 46 + data.readUInt16LE(i + 28));
  }
  return data;
}
