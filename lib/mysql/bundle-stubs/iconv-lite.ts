/**
 * Bundle-time stand-in for iconv-lite (serverless.yml esbuild `alias`): half a megabyte of charset tables
 * that mysql2 loads eagerly but calls only for charsets Node cannot decode itself. Connections of this
 * plugin are utf8mb4 and values are read as raw bytes; what mysql2 still decodes through it is CESU-8
 * (its name for MySQL's utf8mb3, used in the handshake and metadata), implemented here. Any other
 * charset throws, naming it, rather than returning mangled text.
 */

const isCesu8 = (encoding: unknown) => /^cesu-?8$/i.test(String(encoding));

const unsupported = (encoding: unknown): never => {
  throw new Error(`charset ${String(encoding)} is not bundled: connections use utf8mb4`);
};

/** CESU-8 is UTF-8 in which a character beyond the BMP is two 3-byte surrogates; Node's decoder refuses those. */
export function decodeCesu8(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let code: number;
    let size: number;
    if (b < 0x80) [code, size] = [b, 1];
    else if ((b & 0xe0) === 0xc0 && i + 1 < bytes.length) [code, size] = [((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f), 2];
    else if ((b & 0xf0) === 0xe0 && i + 2 < bytes.length) {
      [code, size] = [((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f), 3];
    } else if ((b & 0xf8) === 0xf0 && i + 3 < bytes.length) {
      const c = ((b & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
      [code, size] = [c, 4];
    } else [code, size] = [0xfffd, 1];
    out += String.fromCodePoint(code);
    i += size;
  }
  return out;
}

/** Each UTF-16 unit (a surrogate half included) as 1 to 3 UTF-8-style bytes. */
export function encodeCesu8(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(bytes);
}

export function getDecoder(encoding: unknown) {
  if (!isCesu8(encoding)) return unsupported(encoding);
  let held: Buffer[] = [];
  // mysql2 writes whole values and ends at once; holding until end() keeps multi-byte sequences whole.
  return {
    write: (chunk: Buffer) => {
      held.push(chunk);
      return '';
    },
    end: () => {
      const text = decodeCesu8(Buffer.concat(held));
      held = [];
      return text;
    },
  };
}

export function getEncoder(encoding: unknown) {
  if (!isCesu8(encoding)) return unsupported(encoding);
  return { write: (text: string) => encodeCesu8(text), end: () => Buffer.alloc(0) };
}

export const decode = (buffer: Buffer, encoding: unknown) => (isCesu8(encoding) ? decodeCesu8(buffer) : unsupported(encoding));
export const encode = (text: string, encoding: unknown) => (isCesu8(encoding) ? encodeCesu8(text) : unsupported(encoding));
export const encodingExists = (encoding: unknown) => isCesu8(encoding);
