import { describe, expect, it } from '@jest/globals';
// The real module (mysql2's dependency) is the reference the bundle's stand-in must match.
import iconv from 'iconv-lite';
import * as stub from '../../../lib/mysql/bundle-stubs/iconv-lite.js';

const samples = ['', 'plain ascii', 'héllo wörld', '中文字符；全角', 'emoji 😀 and 𝄞 beyond the BMP', 'mixed\u0000nul\u007f'];

describe('the iconv-lite stand-in of the bundles', () => {
  it.each(samples)('encodes and decodes CESU-8 like iconv-lite (%j)', (text) => {
    const reference = iconv.encode(text, 'cesu8');
    expect(stub.encode(text, 'cesu8')).toEqual(reference);
    expect(stub.decode(reference, 'cesu8')).toBe(iconv.decode(reference, 'cesu8'));
    const decoder = stub.getDecoder('cesu8');
    expect(decoder.write(reference) + decoder.end()).toBe(text);
  });

  it('decodes plain UTF-8 four-byte sequences as well', () => {
    expect(stub.decode(Buffer.from('😀', 'utf8'), 'cesu8')).toBe('😀');
  });

  it.each(['gbk', 'big5', 'latin2'])('refuses %s, naming it', (charset) => {
    expect(() => stub.getDecoder(charset)).toThrow(`charset ${charset} is not bundled`);
    expect(stub.encodingExists(charset)).toBe(false);
  });
});
