import { z } from 'zod';
import type { Config } from '../config.js';
import { InputError, SecretError } from '../errors.js';
import { commonFields, looseString, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { decodeCipherA, encodeCipherA, resolveSeed } from './cipher-a.js';
import { generateSshKeyPair } from './ssh-keygen.js';

const passwordInput = z.object({
  ...commonFields,
  guid: requiredString(),
  seed: looseString(),
  password: requiredString(),
});

/** The seed to use, or an error: unlike upstream we never hand back a secret in clear for want of a seed. */
function seedFor(config: Config, inputSeed: string | undefined): string {
  const seed = resolveSeed(inputSeed, config.encryptSeed);
  if (!seed) throw new InputError('Parameter seed can not empty.');
  return seed;
}

/** password/encode: `{cipher_a}` encryption of a password with guid + seed. */
export const passwordEncode = (config: Config) =>
  defineOperation({
    plugin: 'password',
    action: 'encode',
    summary: 'Encrypt a password into {cipher_a} form with guid + seed',
    input: passwordInput,
    output: z.object({ password: z.string() }),
    run: eachItem(async (item, ctx) => {
      ctx.logger.redactor.register(item.password);
      return { password: encodeCipherA(item.guid, seedFor(config, item.seed), item.password) };
    }),
  });

/** password/decode: decrypts `{cipher_a}` (or the seed example's unprefixed legacy form). */
export const passwordDecode = (config: Config) =>
  defineOperation({
    plugin: 'password',
    action: 'decode',
    summary: 'Decrypt a {cipher_a} password (or the legacy unprefixed hex form) with guid + seed',
    input: passwordInput,
    output: z.object({ password: z.string() }),
    run: eachItem(async (item, ctx) => {
      try {
        const plain = decodeCipherA(item.guid, seedFor(config, item.seed), item.password);
        ctx.logger.redactor.register(plain);
        return { password: plain };
      } catch (error) {
        if (error instanceof SecretError) throw new SecretError(`Password decoding failed, details: ${error.message}`);
        throw error;
      }
    }),
  });

/** password/sshkeygen: an RSA key pair made in-process; the private key leaves only encrypted. */
export const passwordSshkeygen = (config: Config) =>
  defineOperation({
    plugin: 'password',
    action: 'sshkeygen',
    summary: 'Generate an RSA-2048 SSH key pair; the PEM private key is returned {cipher_a}-encrypted',
    input: z.object({
      ...commonFields,
      guid: requiredString(),
      seed: looseString(),
      keyName: requiredString().refine((v) => /^[\w.@+=:-]{1,128}$/.test(v), {
        message: 'only letters, digits and ._@+=:- are allowed (max 128)',
      }),
    }),
    output: z.object({ keyName: z.string(), privateKey: z.string(), publicKey: z.string() }),
    run: eachItem(async (item) => {
      const seed = seedFor(config, item.seed);
      const pair = await generateSshKeyPair(item.keyName);
      // Upstream escapes the PEM's newlines as the two characters `\n` before encrypting; callers expect that.
      const escaped = pair.privateKeyPem.replace(/\n/g, '\\n');
      return { keyName: item.keyName, privateKey: encodeCipherA(item.guid, seed, escaped), publicKey: pair.publicKey };
    }),
  });
