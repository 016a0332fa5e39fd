import { createHash, randomInt } from 'node:crypto';

/**
 * SHA-512 crypt (`$6$`, Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", as glibc, `openssl passwd -6`
 * and /etc/shadow use it). The handler computes the hash so that the password itself never travels in a
 * salt job: the host only ever receives this string.
 */

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DEFAULT_ROUNDS = 5000;
const MAX_SALT = 16;

const sha512 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `source` repeated to exactly `length` bytes. */
function stretch(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** A random salt of 16 characters of the crypt alphabet (96 bits). */
export function randomSalt(): string {
  return Array.from({ length: MAX_SALT }, () => ITOA64[randomInt(ITOA64.length)]).join('');
}

/**
 * `$6$[rounds=N$]<salt>$<hash>` of `password`. The salt is cut to 16 characters and must be of the crypt
 * alphabet; rounds are clamped to 1000..999999999 as glibc does. Throws RangeError for a bad salt.
 */
export function sha512Crypt(password: string, salt: string = randomSalt(), rounds = DEFAULT_ROUNDS): string {
  const s = salt.slice(0, MAX_SALT);
  if (!/^[./0-9A-Za-z]*$/.test(s)) throw new RangeError('crypt salt must be of [./0-9A-Za-z]');
  const r = Math.min(999_999_999, Math.max(1000, Math.floor(rounds)));
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(s, 'ascii');

  const B = sha512(P, S, P);
  const aParts: Buffer[] = [P, S, stretch(B, P.length)];
  for (let n = P.length; n > 0; n >>= 1) aParts.push(n & 1 ? B : P);
  const A = sha512(...aParts);

  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const Pseq = stretch(DP, P.length);
  const DS = sha512(...Array.from({ length: 16 + A[0]! }, () => S));
  const Sseq = DS.subarray(0, S.length);

  let C = A;
  for (let i = 0; i < r; i++) {
    const parts: Buffer[] = [i & 1 ? Pseq : C];
    if (i % 3) parts.push(Sseq);
    if (i % 7) parts.push(Pseq);
    parts.push(i & 1 ? C : Pseq);
    C = sha512(...parts);
  }

  let encoded = '';
  for (let i = 0; i < 21; i++) {
    const [a, b, c] = [C[i]!, C[i + 21]!, C[i + 42]!];
    encoded += i % 3 === 0 ? b64From24(a, b, c, 4) : i % 3 === 1 ? b64From24(b, c, a, 4) : b64From24(c, a, b, 4);
  }
  encoded += b64From24(0, 0, C[63]!, 2);
  return `$6$${r === DEFAULT_ROUNDS ? '' : `rounds=${r}$`}${s}$${encoded}`;
}
