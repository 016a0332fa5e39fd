/**
 * Minimum HMAC key sizes for the JWT algorithms WeCube tokens use. RFC 7518 §3.2: a key used with
 * HS256/384/512 must be at least as long as the hash output (32/48/64 bytes); a shorter key is a
 * brute-forceable secret, whatever the platform was configured with.
 */
export const HMAC_MIN_KEY_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const;

export type HmacAlgorithm = keyof typeof HMAC_MIN_KEY_BYTES;

/** The smallest key any accepted algorithm allows: shorter keys are refused at start. */
export const MIN_JWT_KEY_BYTES = HMAC_MIN_KEY_BYTES.HS256;

/** The HMAC algorithms a key of `keyBytes` bytes is long enough for (none below 32 bytes). */
export function hmacAlgorithmsFor(keyBytes: number): HmacAlgorithm[] {
  return (Object.keys(HMAC_MIN_KEY_BYTES) as HmacAlgorithm[]).filter((alg) => keyBytes >= HMAC_MIN_KEY_BYTES[alg]);
}
