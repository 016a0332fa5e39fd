/**
 * The production entry (lib/server/main.ts) as a process: what it refuses at start, the environment names
 * WeCube passes (upstream's names, rsa@ values), /healthz without auth, JWT on every operation, SIGTERM.
 * Run with tsx in a child whose environment holds only what each case sets.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { constants, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startMain(env: Record<string, string>): Child {
  const child = spawn(TSX, ['lib/server/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls /healthz until it answers (the log may be silenced by the level under test). */
async function ready(url: string, child: Child): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`server exited:\n${child.output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`server not ready in 60 s:\n${child.output()}`);
}

const decodeBody = JSON.stringify({ inputs: [{ guid: '1234', seed: 'abc12345', password: '251f54c3f5be75e171ae1eb516dbacd9' }] });
const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/saltstack/v1/password/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: decodeBody });

describe('server start-up refusals', () => {
  it.each([
    ['AUTH_MODE=off', { AUTH_MODE: 'off' }, /^server not started: AUTH_MODE=off: the server refuses to start without authentication/m],
    ['no JWT key', {}, /^server not started: JWT_SIGNING_KEY: required when AUTH_MODE=jwt/m],
    [
      "upstream's public default key (20 bytes)",
      { JWT_SIGNING_KEY: 'Platform+Auth+Server+Secret' },
      /^server not started: JWT_SIGNING_KEY decodes to 20 bytes/m,
    ],
    [
      'an rsa@ value without the key file',
      { JWT_SIGNING_KEY: 'rsa@AAAA', WECUBE_RSA_KEY_FILE: '/nonexistent/rsa_key' },
      /JWT_SIGNING_KEY: an rsa@ value that cannot be decrypted/,
    ],
  ])('refuses to start with %s (exit 1, the reason on stderr)', async (_, env, reason) => {
    const child = startMain(env);
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(reason);
    expect(child.output()).not.toContain('server listening');
  });
});

describe('server with the environment WeCube passes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'server-main-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // WeCube encrypts JWT_SIGNING_KEY with the platform's RSA key and mounts the private key under /data/certs.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaKeyFile = join(dir, 'rsa_key');
  writeFileSync(rsaKeyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  const jwtKey = randomBytes(64);
  const encrypted = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(jwtKey.toString('base64'))).toString('base64');
  const token = (authority: string) =>
    new SignJWT({ authority }).setProtectedHeader({ alg: 'HS512' }).setSubject('WECUBE').setExpirationTime('5m').sign(jwtKey);

  it('decrypts the rsa@ key, follows SALTSTACK_LOG_LEVEL, answers /healthz without a token and operations only with one, stops on SIGTERM', async () => {
    const port = await freePort();
    const child = startMain({
      JWT_SIGNING_KEY: `rsa@${encrypted}`,
      WECUBE_RSA_KEY_FILE: rsaKeyFile,
      SALTSTACK_LOG_LEVEL: 'warn',
      SERVER_HOST: '127.0.0.1',
      SERVER_PORT: String(port),
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await ready(url, child);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });

      const anonymous = await post(url);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
      expect((await post(url, { authorization: `Bearer ${await token('[ADMIN]')}` })).status).toBe(401);

      const platform = await post(url, { authorization: `Bearer ${await token('[SUB_SYSTEM]')}` });
      expect(platform.status).toBe(200);
      expect(((await platform.json()) as any).results.outputs[0].password).toBe('qq123456');

      // warn: the auth rejections are logged, the info lines (listening, request done) are not.
      expect(child.output()).toContain('request rejected by auth');
      expect(child.output()).not.toContain('server listening');
      expect(child.output()).not.toContain('request done');
    } finally {
      child.process.kill('SIGTERM');
    }
    expect(await child.exited).toBe(0);
  });

  it('listens on 0.0.0.0 by default and logs JSON lines on stdout', async () => {
    const port = await freePort();
    const child = startMain({ JWT_SIGNING_KEY: jwtKey.toString('base64'), SERVER_PORT: String(port) });
    try {
      await ready(`http://127.0.0.1:${port}`, child);
      const line = child
        .output()
        .split('\n')
        .find((l) => l.includes('server listening'));
      expect(JSON.parse(line!)).toMatchObject({ level: 'info', message: 'server listening', url: `http://0.0.0.0:${port}`, authMode: 'jwt' });
    } finally {
      child.process.kill('SIGTERM');
    }
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain('server stopping');
  });
});
