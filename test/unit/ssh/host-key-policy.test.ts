import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { checkHostKey, fingerprintOf, MemoryKnownHosts, normaliseFingerprint } from '../../../lib/ssh/host-key-policy.js';

const KEY = Buffer.from('an ssh host key blob');
const FP = fingerprintOf(KEY);
const OTHER = fingerprintOf(Buffer.from('another key'));

describe('fingerprintOf / normaliseFingerprint', () => {
  it('is OpenSSH’s SHA256 form (unpadded base64)', () => {
    expect(FP).toBe(`SHA256:${createHash('sha256').update(KEY).digest('base64').replace(/=+$/, '')}`);
    expect(FP).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it.each([
    [FP, FP],
    [FP.slice(7), FP],
    [`${FP}=`, FP],
    [` sha256:${FP.slice(7)} `, FP],
    ['MD5:aa:bb', undefined],
    ['SHA256:short', undefined],
  ])('normalises %j to %j', (text, expected) => {
    expect(normaliseFingerprint(text)).toBe(expected);
  });
});

describe('checkHostKey', () => {
  const check = (known: MemoryKnownHosts, over: { pinned?: string; policy?: 'record-on-first-use' | 'known-only'; fingerprint?: string } = {}) =>
    checkHostKey({ id: 'h:22', fingerprint: over.fingerprint ?? FP, pinned: over.pinned, policy: over.policy ?? 'record-on-first-use', known });

  it('records an unknown host on first use, then knows it', async () => {
    const known = new MemoryKnownHosts();
    expect(await check(known)).toBe('recorded');
    expect(known.records.get('h:22')).toBe(FP);
    expect(await check(known)).toBe('known');
  });

  it('refuses a changed key and says both fingerprints and how to fix it', async () => {
    const known = new MemoryKnownHosts();
    await known.record('h:22', OTHER);
    await expect(check(known)).rejects.toMatchObject({ name: 'HostKeyError', message: expect.stringContaining(`recorded ${OTHER}, offered ${FP}`) });
    expect(known.records.get('h:22')).toBe(OTHER);
  });

  it('accepts only the pinned fingerprint when one is given, whatever is recorded', async () => {
    const known = new MemoryKnownHosts();
    await known.record('h:22', OTHER);
    expect(await check(known, { pinned: FP })).toBe('pinned');
    await expect(check(known, { pinned: OTHER })).rejects.toMatchObject({ name: 'HostKeyError' });
  });

  it('refuses an unknown host under known-only without recording it', async () => {
    const known = new MemoryKnownHosts();
    await expect(check(known, { policy: 'known-only' })).rejects.toMatchObject({ name: 'HostKeyError', message: expect.stringContaining('known-only') });
    expect(known.records.size).toBe(0);
  });
});
