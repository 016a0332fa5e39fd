import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { CIPHER_A_PREFIX, decodeCipherA, encodeCipherA, resolveSeed } from '../../../lib/crypto/cipher-a.js';
import { SecretError } from '../../../lib/errors.js';

const GUID = '1234';
const SEED = 'abc12345';
const SEED_HEX = '251f54c3f5be75e171ae1eb516dbacd9';

/** md5 via the openssl binary: an implementation independent of node:crypto. */
function opensslMd5Hex(text: string): string {
  const out = execFileSync('openssl', ['dgst', '-md5', '-r'], { input: Buffer.from(text, 'utf8') }).toString();
  return out.split(' ')[0]!.trim();
}

/** AES-128-CBC with key = IV = the 16 ASCII chars of the md5 prefix, computed by the openssl binary. */
function opensslCipherHex(guid: string, seed: string, plain: Buffer | string): string {
  const keyHex = Buffer.from(opensslMd5Hex(guid + seed).slice(0, 16), 'ascii').toString('hex');
  const input = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain;
  return execFileSync('openssl', ['enc', '-aes-128-cbc', '-K', keyHex, '-iv', keyHex], { input }).toString('hex');
}

interface Vector {
  name: string;
  guid: string;
  seed: string;
  plain: string;
  hex: string;
}

const vectorInputs: Array<Omit<Vector, 'hex'>> = [
  { name: 'the seed example password', guid: GUID, seed: SEED, plain: 'qq123456' },
  { name: 'a UTF-8 password', guid: GUID, seed: SEED, plain: '中文密码' },
  { name: 'a password of exactly 16 bytes', guid: 'host-guid-0001', seed: 'other-seed', plain: '0123456789abcdef' },
  { name: 'a long password with spaces and symbols', guid: '0045_0000000001', seed: 'S33d!', plain: 'p@ss w0rd; $HOME `id` "quoted" \\ 40+ chars' },
];
const vectors: Vector[] = [];
/** Hex of a value that decrypts with valid padding to control characters (not printable). */
let controlCharsHex = '';

beforeAll(() => {
  for (const v of vectorInputs) vectors.push({ ...v, hex: opensslCipherHex(v.guid, v.seed, v.plain) });
  controlCharsHex = opensslCipherHex(GUID, SEED, Buffer.from([0x01, 0x02, 0x1b]));
});

describe('the seed example vector (guid 1234, seed abc12345)', () => {
  it('has md5(guid + seed) e23838a1f491a3860a8fc4d8bc6c8955, whose first 16 characters are the key', () => {
    expect(opensslMd5Hex(GUID + SEED)).toBe('e23838a1f491a3860a8fc4d8bc6c8955');
  });

  it('is what openssl produces for qq123456', () => {
    expect(vectors[0]!.hex).toBe(SEED_HEX);
  });

  it.each([
    ['the prefixed form', `${CIPHER_A_PREFIX}${SEED_HEX}`],
    ['the unprefixed legacy form of the seed README', SEED_HEX],
    ['upper-case hex with the prefix', `${CIPHER_A_PREFIX}${SEED_HEX.toUpperCase()}`],
  ])('decodes %s to qq123456', (_name, text) => {
    expect(decodeCipherA(GUID, SEED, text)).toBe('qq123456');
  });

  it('encodes qq123456 to exactly the prefixed string', () => {
    expect(encodeCipherA(GUID, SEED, 'qq123456')).toBe(`{cipher_a}${SEED_HEX}`);
  });
});

describe('vectors computed by openssl', () => {
  it.each(vectorInputs.map((v, i) => [v.name, i] as const))('encodes %s exactly as openssl does', (_name, i) => {
    const v = vectors[i]!;
    expect(encodeCipherA(v.guid, v.seed, v.plain)).toBe(CIPHER_A_PREFIX + v.hex);
  });

  it.each(vectorInputs.map((v, i) => [v.name, i] as const))('decodes openssl ciphertext of %s, prefixed or not', (_name, i) => {
    const v = vectors[i]!;
    expect(decodeCipherA(v.guid, v.seed, CIPHER_A_PREFIX + v.hex)).toBe(v.plain);
    expect(decodeCipherA(v.guid, v.seed, v.hex)).toBe(v.plain);
  });

  it('pads a 16-byte-exact password with a whole extra block (32 bytes of ciphertext)', () => {
    const sixteen = vectors[2]!;
    expect(Buffer.byteLength(sixteen.plain)).toBe(16);
    expect(encodeCipherA(sixteen.guid, sixteen.seed, sixteen.plain)).toHaveLength(CIPHER_A_PREFIX.length + 64);
  });
});

describe('round trips', () => {
  it.each([
    ['ascii', 'Passw0rd!'],
    ['one character', 'x'],
    ['chinese', '中文密码'],
    ['emoji', 'pw-🔑-🚀'],
    ['16 bytes', 'abcdefghijklmnop'],
    ['17 bytes', 'abcdefghijklmnopq'],
    ['a long value', 'long-'.repeat(100)],
    ['text that looks like hex', '251f54c3f5be75e171ae1eb516dbacd9'],
  ])('decode(encode(%s)) gives the plain text back', (_name, plain) => {
    const encoded = encodeCipherA('guid-rt', 'seed-rt', plain);
    expect(encoded.startsWith(CIPHER_A_PREFIX)).toBe(true);
    expect(encoded).not.toContain(plain);
    expect(decodeCipherA('guid-rt', 'seed-rt', encoded)).toBe(plain);
  });

  it('gives different ciphertexts for different guids with the same seed', () => {
    expect(encodeCipherA('guid-1', SEED, 'same')).not.toBe(encodeCipherA('guid-2', SEED, 'same'));
  });
});

describe('decoding failures', () => {
  it('throws SecretError "password wrong" for a prefixed value and the wrong seed', () => {
    const run = () => decodeCipherA(GUID, 'not-the-seed', `${CIPHER_A_PREFIX}${SEED_HEX}`);
    expect(run).toThrow(SecretError);
    expect(run).toThrow(/^password wrong$/);
  });

  it('throws SecretError "password wrong" for a prefixed value and the wrong guid', () => {
    expect(() => decodeCipherA('4321', SEED, `${CIPHER_A_PREFIX}${SEED_HEX}`)).toThrow(new SecretError('password wrong'));
  });

  it('throws SecretError for an encrypted empty string, as upstream does', () => {
    const encodedEmpty = encodeCipherA(GUID, SEED, '');
    expect(encodedEmpty).toMatch(/^\{cipher_a\}[0-9a-f]{32}$/);
    expect(() => decodeCipherA(GUID, SEED, encodedEmpty)).toThrow(new SecretError('password wrong'));
  });

  it.each([
    ['not hex', `${CIPHER_A_PREFIX}zz1f54c3f5be75e171ae1eb516dbacd9`],
    ['not whole blocks', `${CIPHER_A_PREFIX}251f54c3f5be75e1`],
    ['empty', CIPHER_A_PREFIX],
  ])('throws SecretError for a prefixed value that is %s', (_name, text) => {
    expect(() => decodeCipherA(GUID, SEED, text)).toThrow(SecretError);
  });

  it('throws SecretError for a prefixed value when there is no seed', () => {
    expect(() => decodeCipherA(GUID, '', `${CIPHER_A_PREFIX}${SEED_HEX}`)).toThrow(SecretError);
  });
});

describe('unprefixed values that are not ciphertext', () => {
  it.each([
    ['a plain password', 'qq123456'],
    ['hex of a wrong length (31 chars)', SEED_HEX.slice(0, 31)],
    ['hex of a wrong length (16 chars)', SEED_HEX.slice(0, 16)],
    ['hex of a wrong length (48 chars)', SEED_HEX + SEED_HEX.slice(0, 16)],
    ['32 non-hex chars', 'g51f54c3f5be75e171ae1eb516dbacd9'],
    ['an empty string', ''],
  ])('returns %s unchanged', (_name, text) => {
    expect(decodeCipherA(GUID, SEED, text)).toBe(text);
  });

  it('returns whole-block hex that does not decrypt with this guid/seed unchanged', () => {
    expect(() => decodeCipherA(GUID, 'not-the-seed', `${CIPHER_A_PREFIX}${SEED_HEX}`)).toThrow(SecretError);
    expect(decodeCipherA(GUID, 'not-the-seed', SEED_HEX)).toBe(SEED_HEX);
  });

  it('returns whole-block hex that decrypts to control characters unchanged (only printable text counts)', () => {
    expect(decodeCipherA(GUID, SEED, CIPHER_A_PREFIX + controlCharsHex)).toBe('\x01\x02\x1b');
    expect(decodeCipherA(GUID, SEED, controlCharsHex)).toBe(controlCharsHex);
  });

  it('returns the legacy hex form unchanged when there is no seed', () => {
    expect(decodeCipherA(GUID, '', SEED_HEX)).toBe(SEED_HEX);
  });
});

describe('encoding edge cases', () => {
  it('returns the plain text unchanged when the seed is empty', () => {
    expect(encodeCipherA(GUID, '', 'qq123456')).toBe('qq123456');
  });

  it('returns an already encrypted value unchanged', () => {
    expect(encodeCipherA(GUID, SEED, `${CIPHER_A_PREFIX}${SEED_HEX}`)).toBe(`${CIPHER_A_PREFIX}${SEED_HEX}`);
  });

  it('writes lower-case hex', () => {
    expect(encodeCipherA('g', 's', 'anything at all')).toMatch(/^\{cipher_a\}[0-9a-f]+$/);
  });
});

describe('resolveSeed (upstream §12.2)', () => {
  it.each([
    ['rule 1: no global seed gives the input seed', 'input', undefined, 'input'],
    ['rule 1: no global seed and no input gives empty', undefined, undefined, ''],
    ['rule 1: an empty global seed gives the input seed, even an encrypted one', '{cipher_a}00', '', '{cipher_a}00'],
    ['rule 2: an empty input seed gives the global seed', '', 'global', 'global'],
    ['rule 2: an absent input seed gives the global seed', undefined, 'global', 'global'],
    ['rule 3: an encrypted input seed gives the global seed', '{cipher_a}abcdef', 'global', 'global'],
    ['rule 4: otherwise the input seed wins over the global one', 'input', 'global', 'input'],
  ])('%s', (_rule, input, global, expected) => {
    expect(resolveSeed(input, global)).toBe(expected);
  });
});
