import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { decodeCipherA, encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { passwordDecode, passwordEncode, passwordSshkeygen } from '../../../lib/crypto/password-operations.js';
import type { Logger } from '../../../lib/log/logger.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { captureLogger } from '../helpers.js';

const noSeedConfig = loadConfig({ AUTH_MODE: 'off' });
const GLOBAL_SEED = 'global-seed-42';
const globalSeedConfig = loadConfig({ AUTH_MODE: 'off', ENCRYPT_SEED: GLOBAL_SEED });

const ctx = (logger: Logger) => ({ logger, signal: new AbortController().signal, concurrency: 2 });

describe('password/encode and password/decode', () => {
  it('round-trips a password through encode then decode', async () => {
    const { logger } = captureLogger();
    const [encoded] = await runOperation(passwordEncode(noSeedConfig), [{ guid: 'g-1', seed: 's-1', password: 'S3cret!pass' }], ctx(logger));
    expect(encoded).toMatchObject({ guid: 'g-1', errorCode: '0', errorMessage: '' });
    expect(String(encoded!['password'])).toMatch(/^\{cipher_a\}[0-9a-f]+$/);

    const [decoded] = await runOperation(passwordDecode(noSeedConfig), [{ guid: 'g-1', seed: 's-1', password: encoded!['password'] }], ctx(logger));
    expect(decoded).toMatchObject({ guid: 'g-1', password: 'S3cret!pass', errorCode: '0', errorMessage: '' });
  });

  it('encodes the seed example to exactly its {cipher_a} value', async () => {
    const [out] = await runOperation(passwordEncode(noSeedConfig), [{ guid: '1234', seed: 'abc12345', password: 'qq123456' }], ctx(captureLogger().logger));
    expect(out!['password']).toBe('{cipher_a}251f54c3f5be75e171ae1eb516dbacd9');
  });

  it('decodes the unprefixed legacy form of the seed example', async () => {
    const [out] = await runOperation(
      passwordDecode(noSeedConfig),
      [{ guid: 1234, seed: 'abc12345', password: '251f54c3f5be75e171ae1eb516dbacd9' }],
      ctx(captureLogger().logger),
    );
    expect(out).toMatchObject({ password: 'qq123456', errorCode: '0' });
  });

  it.each([
    ['encode', passwordEncode],
    ['decode', passwordDecode],
  ])('%s fails with "Parameter seed can not empty." when no seed is given and ENCRYPT_SEED is unset', async (_name, factory) => {
    const [out] = await runOperation(
      factory(noSeedConfig),
      [{ guid: 'g', password: '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9' }],
      ctx(captureLogger().logger),
    );
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'Parameter seed can not empty.', errorType: 'E_INPUT' });
    expect(out).not.toHaveProperty('password');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['itself encrypted', '{cipher_a}00112233445566778899aabbccddeeff'],
  ])('uses ENCRYPT_SEED when the input seed is %s', async (_name, seed) => {
    const item = { guid: 'g-7', password: 'pw-global', ...(seed !== undefined && { seed }) };
    const [out] = await runOperation(passwordEncode(globalSeedConfig), [item], ctx(captureLogger().logger));
    expect(out!['password']).toBe(encodeCipherA('g-7', GLOBAL_SEED, 'pw-global'));
  });

  it('prefers a plain input seed over ENCRYPT_SEED', async () => {
    const [out] = await runOperation(passwordEncode(globalSeedConfig), [{ guid: 'g-7', seed: 'mine', password: 'pw' }], ctx(captureLogger().logger));
    expect(out!['password']).toBe(encodeCipherA('g-7', 'mine', 'pw'));
  });

  it("fails decode with the wrong seed with upstream's text", async () => {
    const [out] = await runOperation(
      passwordDecode(noSeedConfig),
      [{ guid: '1234', seed: 'wrong-seed', password: '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9' }],
      ctx(captureLogger().logger),
    );
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'Password decoding failed, details: password wrong', errorType: 'E_SECRET' });
  });

  it.each([
    ['guid', { seed: 's', password: 'p' }],
    ['password', { guid: 'g', seed: 's' }],
    ['password', { guid: 'g', seed: 's', password: '   ' }],
  ])('rejects an item without %s, naming it', async (field, item) => {
    const [out] = await runOperation(passwordEncode(noSeedConfig), [item], ctx(captureLogger().logger));
    expect(out!['errorMessage']).toBe(`Parameter ${field} can not empty.`);
  });

  it('never writes a decoded password to the log, even inside a later message', async () => {
    const { logger, lines } = captureLogger('debug');
    const secret = 'Decoded-Pa55word';
    const cipher = encodeCipherA('g-log', 'seed-log', secret);
    const outputs = await runOperation(
      passwordDecode(noSeedConfig),
      [
        { guid: 'g-log', seed: 'seed-log', password: cipher },
        { guid: 'g-bad', seed: 'wrong', password: cipher },
        { guid: 'g-empty', seed: 'seed-log' },
      ],
      ctx(logger),
    );
    expect(outputs.map((o) => o.errorCode)).toEqual(['0', '1', '1']);
    expect(outputs[0]!['password']).toBe(secret);
    // Later code that puts the decrypted value in a text (a salt error echoing a command) must be masked.
    logger.child({ guid: 'g-log' }).error('salt said', { detail: `useradd failed for password ${secret}` });
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).not.toContain(secret);
    expect(lines.join('\n')).toContain('[redacted]');
  });

  it('never writes a password being encoded to the log', async () => {
    const { logger, lines } = captureLogger('debug');
    const secret = 'Plain-To-Encode-99';
    await runOperation(passwordEncode(noSeedConfig), [{ guid: 'g', seed: 's', password: secret }], ctx(logger));
    logger.warn('echo', { text: `the value was ${secret}` });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
  });
});

describe('password/sshkeygen', () => {
  it('returns the key name, a public key line and the PEM private key encrypted with guid + seed, newlines as the two characters \\n', async () => {
    const [out] = await runOperation(
      passwordSshkeygen(noSeedConfig),
      [{ guid: 'g-key', seed: 'seed-key', keyName: 'app_key-1.prod', callbackParameter: 'cb-1' }],
      ctx(captureLogger().logger),
    );
    expect(out).toMatchObject({ guid: 'g-key', callbackParameter: 'cb-1', keyName: 'app_key-1.prod', errorCode: '0' });
    expect(String(out!['publicKey'])).toMatch(/^ssh-rsa [A-Za-z0-9+/]+={0,2} app_key-1\.prod\n$/);
    const privateKey = String(out!['privateKey']);
    expect(privateKey.startsWith('{cipher_a}')).toBe(true);
    const escaped = decodeCipherA('g-key', 'seed-key', privateKey);
    expect(escaped).not.toContain('\n');
    expect(escaped.startsWith('-----BEGIN RSA PRIVATE KEY-----\\n')).toBe(true);
    const pem = escaped.replace(/\\n/g, '\n');
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END RSA PRIVATE KEY-----\n$/);
  });

  it.each([
    ['a space', 'my key'],
    ['a semicolon', 'key;rm -rf /'],
    ['a quote', "key'x"],
  ])('rejects a keyName with %s, naming keyName', async (_name, keyName) => {
    const [out] = await runOperation(passwordSshkeygen(noSeedConfig), [{ guid: 'g', seed: 's', keyName }], ctx(captureLogger().logger));
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toMatch(/keyName/);
    expect(out).not.toHaveProperty('privateKey');
  });

  it('fails with "Parameter seed can not empty." rather than return an unencrypted private key', async () => {
    const [out] = await runOperation(passwordSshkeygen(noSeedConfig), [{ guid: 'g', keyName: 'k' }], ctx(captureLogger().logger));
    expect(out).toMatchObject({ errorCode: '1', errorMessage: 'Parameter seed can not empty.' });
    expect(out).not.toHaveProperty('privateKey');
  });
});
