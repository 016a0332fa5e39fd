import { constants, createPrivateKey, createPublicKey, privateEncrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';

/** The app public key and sys private key of a package-variable request, parsed once. */
export interface RsaKeyPair {
  appPublicKey: KeyObject;
  sysPrivateKey: KeyObject;
}

const BEGIN_PUBLIC = '-----BEGIN PUBLIC KEY-----';

/** WeCube sends PEMs with their newlines as the two characters `\n`, and the public key often bare base64. */
function pemText(text: string): string {
  return text.replace(/\\n/g, '\n').trim();
}

/**
 * Parses the key pair (after `{cipher_a}` decoding). Throws InputError with upstream's texts for a missing
 * key (`GetVariableValue publicKey is empty`) and a clear one for a key that is not RSA PEM.
 */
export function parseRsaKeyPair(appPublicKey: string | undefined, sysPrivateKey: string | undefined): RsaKeyPair {
  if (!appPublicKey?.trim()) throw new InputError('GetVariableValue publicKey is empty');
  if (!sysPrivateKey?.trim()) throw new InputError('GetVariableValue privateKey is empty');
  let pub = pemText(appPublicKey);
  if (!pub.startsWith('-----BEGIN')) pub = `${BEGIN_PUBLIC}\n${pub}\n-----END PUBLIC KEY-----`;
  let app: KeyObject;
  let sys: KeyObject;
  try {
    app = createPublicKey(pub);
  } catch {
    throw new InputError('appPublicKey is not an RSA public key in PEM form');
  }
  try {
    sys = createPrivateKey(pemText(sysPrivateKey));
  } catch {
    // Never echo the key or the parser's message (it may quote key material).
    throw new InputError('sysPrivateKey is not an unencrypted RSA private key in PEM form');
  }
  if (app.asymmetricKeyType !== 'rsa') throw new InputError('appPublicKey is not an RSA key');
  if (sys.asymmetricKeyType !== 'rsa') throw new InputError('sysPrivateKey is not an RSA key');
  return { appPublicKey: app, sysPrivateKey: sys };
}

const bytesOf = (key: KeyObject) => Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);

/**
 * `enc-single` (`+` placeholders): `ffffff02` + hex of RSA PKCS#1 v1.5 encryption with the app public key
 * (upstream rsautil.sh `openssl rsautl -encrypt`). Throws InputError when the value is too long for the key.
 */
export function encryptSingle(value: string, keys: RsaKeyPair, placeholder: string): string {
  return 'ffffff02' + appEncrypt(value, keys, placeholder).toString('hex');
}

/**
 * `enc` (`!`, `%` placeholders): hex of raw PKCS#1 v1.5 signing (`rsautl -sign`) with the sys private key
 * over the app-key ciphertext. The inner ciphertext must fit: the app key must be smaller than the sys key.
 */
export function encryptDouble(value: string, keys: RsaKeyPair, placeholder: string): string {
  const inner = appEncrypt(value, keys, placeholder);
  if (inner.length > bytesOf(keys.sysPrivateKey) - 11) {
    throw new InputError(
      `Try to encrypt key ${placeholder} fail,the app key (${inner.length * 8} bits) must be smaller than the sys key (${bytesOf(keys.sysPrivateKey) * 8} bits)`,
    );
  }
  return privateEncrypt({ key: keys.sysPrivateKey, padding: constants.RSA_PKCS1_PADDING }, inner).toString('hex');
}

function appEncrypt(value: string, keys: RsaKeyPair, placeholder: string): Buffer {
  const data = Buffer.from(value, 'utf8');
  const room = bytesOf(keys.appPublicKey) - 11;
  if (data.length > room) {
    throw new InputError(`Try to encrypt key ${placeholder} fail,the value is ${data.length} bytes, the app key takes at most ${room}`);
  }
  return publicEncrypt({ key: keys.appPublicKey, padding: constants.RSA_PKCS1_PADDING }, data);
}
