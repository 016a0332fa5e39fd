import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { combinedPrefixes, DEFAULT_PREFIXES } from '../../../lib/artifacts/placeholder-prefixes.js';
import { substituteBuffer, substitutionStream, type Resolver } from '../../../lib/artifacts/replace-placeholders.js';
import { MAX_SEGMENT } from '../../../lib/artifacts/split-lines.js';

const PREFIXES = combinedPrefixes(DEFAULT_PREFIXES);
const VARS: Record<string, string> = { port: '8080', host: 'db.local', url: 'jdbc:mysql://[@host]/x', name: '名字', empty: '' };
/** Case-insensitive lookup; unknown names are left alone. */
const resolve: Resolver = (ph) => {
  for (const c of ph.candidates) {
    const v = VARS[c.name.toLowerCase()];
    if (v !== undefined) return v;
  }
  return undefined;
};
const sub = (text: string | Buffer) => substituteBuffer(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), PREFIXES, resolve);

describe('substitution', () => {
  it.each<[string, string, string]>([
    ['one placeholder', 'port=[@port]\n', 'port=8080\n'],
    ['CRLF line endings are kept', 'a=[@port]\r\nb=[@host]\r\n', 'a=8080\r\nb=db.local\r\n'],
    ['no final newline stays without one', 'a=[@port]\nb=[@host]', 'a=8080\nb=db.local'],
    ['a final newline stays', 'a=[@PORT]\n', 'a=8080\n'],
    ['lookup ignores case, the rest of the line keeps its case', 'Port=[@Port] HOST=[#HOST]\n', 'Port=8080 HOST=db.local\n'],
    ['unknown placeholders are kept as they are', 'a=[@nope] b=[@port]\n', 'a=[@nope] b=8080\n'],
    ['nested brackets keep the outer ones', 'list=[[@port]]\n', 'list=[8080]\n'],
    ['[@a@b] is replaced as a whole by a', 'x=[@port@whatever]\n', 'x=8080\n'],
    ['a value that looks like a placeholder is not substituted again', 'u=[@url] h=[@port]\n', 'u=jdbc:mysql://[@host]/x h=8080\n'],
    ['an empty value empties the placeholder', 'e=[@empty];\n', 'e=;\n'],
    ['UTF-8 values and text around them', 'é=[@name] ü\n', 'é=名字 ü\n'],
    ['blank lines and CR-only text are untouched', '\n\r\n\r\n[@port]\n', '\n\r\n\r\n8080\n'],
    ['bare names and brackets without prefix stay', 'a=[port] b=[x@port] @port]\n', 'a=[port] b=[x@port] @port]\n'],
  ])('%s', (_name, input, expected) => {
    expect(sub(input).toString('utf8')).toBe(expected);
  });

  it('returns a file without placeholders byte for byte, even when it is not UTF-8', () => {
    const binary = Buffer.concat([randomBytes(4096), Buffer.from('[no placeholder]\r\n\xff\xfe', 'latin1'), randomBytes(4096)]);
    const noBrackets = Buffer.from(binary.map((b) => (b === 0x5b ? 0x20 : b)));
    expect(sub(noBrackets).equals(noBrackets)).toBe(true);
    const withBrackets = Buffer.from('a=[@nope]\r\n\xc3\x28 invalid utf8 [x]\n', 'latin1');
    expect(sub(withBrackets).equals(withBrackets)).toBe(true);
  });

  it('leaves invalid UTF-8 around a replaced placeholder untouched', () => {
    const input = Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('=[@port]'), Buffer.from([0xff, 0x0a])]);
    expect(sub(input)).toEqual(Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('=8080'), Buffer.from([0xff, 0x0a])]));
  });

  it('gives the same bytes fed one byte at a time as fed whole', async () => {
    const input = Buffer.from('a=[@port]\r\nb=[#host] [@nope]\nc=[@name]', 'utf8');
    const out: Buffer[] = [];
    const stream = Readable.from([...input].map((b) => Buffer.from([b]))).pipe(substitutionStream(PREFIXES, resolve));
    for await (const chunk of stream) out.push(chunk as Buffer);
    expect(Buffer.concat(out).toString('utf8')).toBe('a=8080\r\nb=db.local [@nope]\nc=名字');
  });

  it('handles a line longer than the segment limit without losing bytes or placeholders', () => {
    const filler = 'x'.repeat(MAX_SEGMENT + 123);
    const input = `head [@port] ${filler} [@host] ${filler} tail\n`;
    const out = sub(input).toString('utf8');
    expect(out).toBe(`head 8080 ${filler} db.local ${filler} tail\n`);
  });

  it('does not cut a placeholder whose closing bracket arrives after the segment limit', async () => {
    const pad = 'y'.repeat(MAX_SEGMENT - 3);
    const chunks = [`${pad}[@po`, `rt]${'z'.repeat(MAX_SEGMENT)}`, `[#host]\n`].map((c) => Buffer.from(c));
    const out: Buffer[] = [];
    for await (const chunk of Readable.from(chunks).pipe(substitutionStream(PREFIXES, resolve))) out.push(chunk as Buffer);
    expect(Buffer.concat(out).toString('utf8')).toBe(`${pad}8080${'z'.repeat(MAX_SEGMENT)}db.local\n`);
  });

  it('passes resolver errors up (an encryption failure aborts the file)', () => {
    const failing: Resolver = () => {
      throw new Error('cannot encrypt');
    };
    expect(() => substituteBuffer(Buffer.from('[@port]\n'), PREFIXES, failing)).toThrow('cannot encrypt');
  });

  it('reports the line number of each placeholder to the resolver', () => {
    const lines: number[] = [];
    substituteBuffer(Buffer.from('a\r\n[@port]\n\n[@host] [@x]'), PREFIXES, (_ph, line) => {
      lines.push(line);
      return undefined;
    });
    expect(lines).toEqual([2, 4, 4]);
  });
});
