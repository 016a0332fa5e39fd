import { beforeAll, describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, privateDecrypt, publicDecrypt, type KeyObject } from 'node:crypto';
import { encryptDouble, encryptSingle, parseRsaKeyPair, type RsaKeyPair } from '../../../lib/artifacts/encrypt-variable.js';
import { InputError } from '../../../lib/errors.js';

interface Pair {
  publicPem: string;
  privatePem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}
const pair = (bits: number): Pair => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    publicKey,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
};

let app: Pair;
let sys: Pair;
let keys: RsaKeyPair;
beforeAll(() => {
  app = pair(1024);
  sys = pair(2048);
  keys = parseRsaKeyPair(app.publicPem, sys.privatePem);
});

const pkcs1 = { padding: constants.RSA_PKCS1_PADDING };

describe('RSA value encryption', () => {
  it('+ gives ffffff02 and the app-key ciphertext, which the app private key opens', () => {
    const out = encryptSingle('db-pass-1', keys, '[+pw]');
    expect(out).toMatch(/^ffffff02[0-9a-f]{256}$/);
    const plain = privateDecrypt({ key: app.privateKey, ...pkcs1 }, Buffer.from(out.slice(8), 'hex'));
    expect(plain.toString('utf8')).toBe('db-pass-1');
  });

  it('! and % give the sys-key signature over the app-key ciphertext, which both keys open in turn', () => {
    const out = encryptDouble('密码 with spaces', keys, '[!pw]');
    expect(out).toMatch(/^[0-9a-f]{512}$/);
    const inner = publicDecrypt({ key: sys.publicKey, ...pkcs1 }, Buffer.from(out, 'hex'));
    expect(privateDecrypt({ key: app.privateKey, ...pkcs1 }, inner).toString('utf8')).toBe('密码 with spaces');
  });

  it('gives a different ciphertext each time (random padding), all decrypting to the value', () => {
    const a = encryptSingle('same', keys, '[+x]');
    const b = encryptSingle('same', keys, '[+x]');
    expect(a).not.toBe(b);
    for (const out of [a, b]) {
      expect(privateDecrypt({ key: app.privateKey, ...pkcs1 }, Buffer.from(out.slice(8), 'hex')).toString()).toBe('same');
    }
  });

  it('accepts keys with escaped newlines and a bare base64 public key', () => {
    const bare = app.publicPem.replace(/-----[A-Z ]+-----/g, '').replace(/\n/g, '');
    const escaped = parseRsaKeyPair(bare, sys.privatePem.replace(/\n/g, '\\n'));
    const out = encryptSingle('v', escaped, '[+v]');
    expect(privateDecrypt({ key: app.privateKey, ...pkcs1 }, Buffer.from(out.slice(8), 'hex')).toString()).toBe('v');
  });

  it('refuses double encryption when the app key is not smaller than the sys key', () => {
    const same = parseRsaKeyPair(pair(2048).publicPem, sys.privatePem);
    expect(() => encryptDouble('v', same, '[!pw]')).toThrow(
      'Try to encrypt key [!pw] fail,the app key (2048 bits) must be smaller than the sys key (2048 bits)',
    );
  });

  it('refuses a value too long for the app key', () => {
    expect(() => encryptSingle('x'.repeat(200), keys, '[+long]')).toThrow(
      'Try to encrypt key [+long] fail,the value is 200 bytes, the app key takes at most 117',
    );
  });

  it.each<[string, () => RsaKeyPair, string]>([
    ['a missing public key', () => parseRsaKeyPair('', sys.privatePem), 'GetVariableValue publicKey is empty'],
    ['a missing private key', () => parseRsaKeyPair(app.publicPem, undefined), 'GetVariableValue privateKey is empty'],
    ['a public key that is not PEM', () => parseRsaKeyPair('not a key', sys.privatePem), 'appPublicKey is not an RSA public key in PEM form'],
    [
      'a private key that is not PEM',
      () => parseRsaKeyPair(app.publicPem, '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----'),
      'sysPrivateKey is not an unencrypted RSA private key in PEM form',
    ],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(InputError);
    expect(make).toThrow(message);
  });

  it('never quotes the private key in its error', () => {
    const broken = sys.privatePem.slice(0, 200);
    try {
      parseRsaKeyPair(app.publicPem, broken);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as Error).message).not.toContain(broken.split('\n')[1]!);
    }
  });
});
