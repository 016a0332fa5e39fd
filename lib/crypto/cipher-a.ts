import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { SecretError } from '../errors.js';

export const CIPHER_A_PREFIX = '{cipher_a}';

/** key = IV = the first 16 hex characters of md5(guid + seed), used as 16 ASCII bytes (upstream §12.1). */
function keyFor(guid: string, seed: string): Buffer {
  return Buffer.from(
    createHash('md5')
      .update(guid + seed)
      .digest('hex')
      .slice(0, 16),
    'ascii',
  );
}

/** Encrypts to `{cipher_a}<hex>`; an empty seed or an already-encrypted value is returned unchanged (upstream). */
export function encodeCipherA(guid: string, seed: string, plain: string): string {
  if (!seed || plain.startsWith(CIPHER_A_PREFIX)) return plain;
  const key = keyFor(guid, seed);
  const cipher = createCipheriv('aes-128-cbc', key, key);
  return CIPHER_A_PREFIX + Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('hex');
}

function decryptHex(guid: string, seed: string, hex: string): string {
  if (!/^(?:[0-9a-fA-F]{32})+$/.test(hex)) {
    throw new SecretError('ciphertext is not hex in whole 16-byte blocks');
  }
  const key = keyFor(guid, seed);
  const decipher = createDecipheriv('aes-128-cbc', key, key);
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(hex, 'hex')), decipher.final()]);
  } catch {
    // PKCS#7 padding did not check out: the guid/seed pair is not the one the value was encrypted with.
    throw new SecretError('password wrong');
  }
  if (plain.length === 0) throw new SecretError('password wrong');
  return plain.toString('utf8');
}

const PRINTABLE_UTF8 = /^[^\p{Cc}]*$/u;

/**
 * Decrypts a `{cipher_a}` value. An unprefixed value is taken as the seed example's legacy ciphertext
 * only if it is hex in whole blocks and decrypts with valid padding to printable UTF-8; otherwise it is
 * plain text and returned as is. Throws SecretError for a prefixed value that does not decrypt.
 */
export function decodeCipherA(guid: string, seed: string, text: string): string {
  if (text.startsWith(CIPHER_A_PREFIX)) {
    if (!seed) throw new SecretError('no seed to decrypt a {cipher_a} value with');
    return decryptHex(guid, seed, text.slice(CIPHER_A_PREFIX.length));
  }
  if (!seed || !/^(?:[0-9a-fA-F]{32})+$/.test(text)) return text;
  try {
    const plain = decryptHex(guid, seed, text);
    const roundTrips = Buffer.from(plain, 'utf8').toString('utf8') === plain && !plain.includes('\uFFFD');
    return roundTrips && PRINTABLE_UTF8.test(plain) ? plain : text;
  } catch {
    return text;
  }
}

/** Seed resolution as upstream §12.2: the global ENCRYPT_SEED wins over an empty or encrypted input seed. */
export function resolveSeed(inputSeed: string | undefined, globalSeed: string | undefined): string {
  const input = inputSeed ?? '';
  if (!globalSeed) return input;
  if (!input || input.startsWith(CIPHER_A_PREFIX)) return globalSeed;
  return input;
}
