import { createHash } from 'node:crypto';
import { HostKeyError } from '../errors.js';

/** Where first-seen host keys are remembered, keyed by `host:port`. */
export interface KnownHosts {
  get(id: string): Promise<string | undefined>;
  record(id: string, fingerprint: string): Promise<void>;
  /** Where a record lives, for messages (`s3://bucket/key`). */
  describe(id: string): string;
}

export type HostKeyPolicy = 'record-on-first-use' | 'known-only';
/** pinned: matched the item's hostKeyFingerprint; known: matched the record; recorded: first use, now recorded. */
export type HostKeyStatus = 'pinned' | 'known' | 'recorded';

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256 (as `ssh-keygen -lf`). */
export const fingerprintOf = (key: Buffer): string => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

/** A fingerprint as given by a caller, with or without `SHA256:` and padding; undefined if it is not one. */
export function normaliseFingerprint(text: string): string | undefined {
  const body = text
    .trim()
    .replace(/^SHA256:/i, '')
    .replace(/=+$/, '');
  return /^[A-Za-z0-9+/]{43}$/.test(body) ? `SHA256:${body}` : undefined;
}

/**
 * Decides whether to trust a server's host key. A pinned fingerprint must match exactly. Otherwise the
 * recorded one must match; an unknown host is recorded (record-on-first-use) or refused (known-only).
 * Throws HostKeyError naming the host, both fingerprints and what to do.
 */
export async function checkHostKey(input: {
  id: string;
  fingerprint: string;
  pinned: string | undefined;
  policy: HostKeyPolicy;
  known: KnownHosts;
}): Promise<HostKeyStatus> {
  const { id, fingerprint, pinned, policy, known } = input;
  if (pinned) {
    if (pinned === fingerprint) return 'pinned';
    throw new HostKeyError(`SSH host key of ${id} is ${fingerprint}, not the expected ${pinned}: refusing to connect (verify the host)`);
  }
  const recorded = await known.get(id);
  if (recorded) {
    if (recorded === fingerprint) return 'known';
    throw new HostKeyError(
      `SSH host key of ${id} changed: recorded ${recorded}, offered ${fingerprint}. Refusing to connect. ` +
        `If the host was legitimately re-keyed, delete ${known.describe(id)} or pass hostKeyFingerprint.`,
    );
  }
  if (policy === 'known-only') {
    throw new HostKeyError(`SSH host key of ${id} (${fingerprint}) is not known and SSH_HOST_KEY_POLICY is known-only: pass hostKeyFingerprint`);
  }
  await known.record(id, fingerprint);
  return 'recorded';
}

/** Known hosts kept in memory (one container); used when no artifact bucket is configured, and in tests. */
export class MemoryKnownHosts implements KnownHosts {
  readonly records = new Map<string, string>();
  async get(id: string) {
    return this.records.get(id);
  }
  async record(id: string, fingerprint: string) {
    this.records.set(id, fingerprint);
  }
  describe(id: string) {
    return `the in-memory record of ${id}`;
  }
}
