import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSshKeyPair, type SshKeyPair } from '../../../lib/crypto/ssh-keygen.js';

const COMMENT = 'deploy-key@wecube';
const LINE = /^ssh-rsa ([A-Za-z0-9+/]+={0,2}) (\S+)\n$/;

/** Splits an SSH wire-format blob into its length-prefixed fields. */
function sshFields(blob: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    const length = blob.readUInt32BE(at);
    fields.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  expect(at).toBe(blob.length);
  return fields;
}

let dir: string;
let pair: SshKeyPair;
let blob: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sshkeygen-unit-'));
  pair = await generateSshKeyPair(COMMENT);
  blob = Buffer.from(LINE.exec(pair.publicKey)?.[1] ?? '', 'base64');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generateSshKeyPair', () => {
  it('returns an authorized_keys line `ssh-rsa <base64> <comment>` with a trailing newline', () => {
    const match = LINE.exec(pair.publicKey);
    expect(match).not.toBeNull();
    expect(match![2]).toBe(COMMENT);
  });

  it('encodes the blob as ssh-rsa, e = 65537 and a 2048-bit modulus mpint', () => {
    const [type, e, n] = sshFields(blob);
    expect(type!.toString()).toBe('ssh-rsa');
    expect([...e!]).toEqual([0x01, 0x00, 0x01]);
    // A 2048-bit modulus has its high bit set, so the mpint carries a leading zero byte.
    expect(n!.length).toBe(257);
    expect(n![0]).toBe(0);
    expect(n![1]! & 0x80).toBe(0x80);
  });

  it('returns the private key as a PKCS#1 PEM, the format ssh-keygen -m PEM writes', () => {
    expect(pair.privateKeyPem.startsWith('-----BEGIN RSA PRIVATE KEY-----\n')).toBe(true);
    expect(pair.privateKeyPem.trimEnd().endsWith('-----END RSA PRIVATE KEY-----')).toBe(true);
  });

  it('writes a public key that `ssh-keygen -l` accepts, with the matching fingerprint and comment', () => {
    const pub = join(dir, 'key.pub');
    writeFileSync(pub, pair.publicKey);
    const out = execFileSync('ssh-keygen', ['-l', '-f', pub], { encoding: 'utf8' }).trim();
    const fingerprint = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
    expect(out).toBe(`2048 ${fingerprint} ${COMMENT} (RSA)`);
  });

  it('writes a private key from which `ssh-keygen -y` derives the same public key blob', () => {
    const key = join(dir, 'key');
    writeFileSync(key, pair.privateKeyPem, { mode: 0o600 });
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const derived = execFileSync('ssh-keygen', ['-y', '-f', key], { encoding: 'utf8' }).trim();
    const [type, base64] = derived.split(' ');
    expect(type).toBe('ssh-rsa');
    expect(Buffer.from(base64!, 'base64').equals(blob)).toBe(true);
  });

  it('makes a different key pair on every call', async () => {
    const other = await generateSshKeyPair(COMMENT);
    expect(other.publicKey).not.toBe(pair.publicKey);
    expect(other.privateKeyPem).not.toBe(pair.privateKeyPem);
  });
});
