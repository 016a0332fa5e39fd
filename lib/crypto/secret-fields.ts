import { InputError, SecretError } from '../errors.js';
import type { Redactor } from '../log/redactor.js';
import { decodeCipherA, encodeCipherA } from './cipher-a.js';

/**
 * Decrypts a password field (`{cipher_a}`, the legacy unprefixed form, or plain) with guid + the
 * resolved seed, and registers both forms for redaction. Throws SecretError with upstream's text.
 */
export function openSecret(guid: string, seed: string, value: string, redactor: Redactor): string {
  redactor.register(value);
  try {
    const plain = decodeCipherA(guid, seed, value);
    redactor.register(plain);
    return plain;
  } catch (error) {
    if (error instanceof SecretError) throw new SecretError(`Password decoding failed, details: ${error.message}`);
    throw error;
  }
}

/**
 * Encrypts a password to hand back as `{cipher_a}`. Throws InputError when no seed resolves: unlike
 * upstream, a generated password is never returned in clear.
 */
export function sealSecret(guid: string, seed: string, plain: string): string {
  if (!seed) throw new InputError('Parameter seed can not empty.');
  return encodeCipherA(guid, seed, plain);
}
