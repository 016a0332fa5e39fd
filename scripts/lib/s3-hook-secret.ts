/**
 * The secret in the local S3 event hook URL. The hook starts releases (root scripts on the minions) from a
 * manifest in the POST body, so only the S3 server, which reads the URL from a file in the stack dir,
 * may call it: not another local user, nor a page that guessed the path.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh secret for one server start: 32 hex characters (128 bits). */
export function newHookSecret(): string {
  return randomBytes(16).toString('hex');
}

/** Whether `given` is exactly `secret`, compared in constant time (both hashed, so lengths leak nothing). */
export function hookSecretMatches(given: string, secret: string): boolean {
  if (!secret) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}
