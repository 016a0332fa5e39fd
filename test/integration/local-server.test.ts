import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { stackEnv, stackRuntime } from '../support/stack.js';

const seedExample = { guid: '1234', seed: 'abc12345' };

describe('npm start server (AUTH_MODE=off)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'off' });
  });
  afterAll(() => server.stop());

  it('says on start-up that authentication is off', () => {
    expect(server.output()).toMatch(/ready http:\/\/127\.0\.0\.1:\d+ \(AUTH_MODE=off/);
  });

  it.each(['/v1/deploy/password/decode', '/saltstack/v1/password/decode'])(
    'decodes the seed example over HTTP at %s, prefixed and legacy unprefixed',
    async (path) => {
      const { status, body } = await postJson(server.url + path, {
        inputs: [
          { ...seedExample, password: '251f54c3f5be75e171ae1eb516dbacd9' },
          { ...seedExample, password: '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9', callbackParameter: 'cb-2' },
        ],
      });
      expect(status).toBe(200);
      expect(body).toEqual({
        resultCode: '0',
        resultMessage: 'success',
        results: {
          outputs: [
            { guid: '1234', password: 'qq123456', errorCode: '0', errorMessage: '' },
            { guid: '1234', callbackParameter: 'cb-2', password: 'qq123456', errorCode: '0', errorMessage: '' },
          ],
        },
      });
    },
  );

  it('answers a bad envelope with HTTP 400 and resultCode 1', async () => {
    const { status, body } = await postJson(server.url + '/saltstack/v1/password/decode', 'not json');
    expect(status).toBe(400);
    expect(body).toMatchObject({ resultCode: '1', results: null });
    expect(body['resultMessage']).toMatch(/not valid JSON/);
  });

  it('answers an unknown plugin or action with 404 and upstream texts', async () => {
    const plugin = await postJson(server.url + '/saltstack/v1/nothing/here', { inputs: [] });
    expect(plugin.status).toBe(404);
    expect(plugin.body['resultMessage']).toBe('plugin[nothing] not found');
    const action = await postJson(server.url + '/saltstack/v1/password/frobnicate', { inputs: [] });
    expect(action.status).toBe(404);
    expect(action.body['resultMessage']).toBe('password plugin, action = frobnicate not found');
  });

  it('never writes the decoded password to its log', () => {
    expect(server.output()).toContain('request done');
    expect(server.output()).not.toContain('qq123456');
  });

  it('serves the OpenAPI document with every operation and its legacy alias', async () => {
    const response = await fetch(server.url + '/saltstack/v1/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/saltstack/v1/password/decode', '/v1/deploy/password/decode', '/saltstack/v1/host-info/query', '/saltstack/v1/salt-api/call']) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });
});

describe('npm start server with AUTH_MODE=jwt', () => {
  // 64 bytes: the platform signs HS512, whose key must be at least its 64-byte hash.
  const key = randomBytes(64);
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'jwt', JWT_SIGNING_KEY: key.toString('base64') });
  });
  afterAll(() => server.stop());

  const token = (authority: unknown) => new SignJWT({ authority }).setProtectedHeader({ alg: 'HS512' }).setSubject('WECUBE').setExpirationTime('5m').sign(key);
  const decode = (headers: Record<string, string>) =>
    postJson(server.url + '/saltstack/v1/password/decode', { inputs: [{ ...seedExample, password: '251f54c3f5be75e171ae1eb516dbacd9' }] }, headers);

  it('rejects a request without a token with 401 Token illegal', async () => {
    const { status, body } = await decode({});
    expect(status).toBe(401);
    expect(body).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
  });

  it('rejects a token without the SUB_SYSTEM role', async () => {
    const { status } = await decode({ authorization: `Bearer ${await token('[ADMIN]')}` });
    expect(status).toBe(401);
  });

  it('accepts a platform token with "[ADMIN, SUB_SYSTEM]"', async () => {
    const { status, body } = await decode({ authorization: `Bearer ${await token('[ADMIN, SUB_SYSTEM]')}` });
    expect(status).toBe(200);
    expect(body['results'].outputs[0].password).toBe('qq123456');
  });
});

type RawReply = { status: number; headers: IncomingHttpHeaders; body: Record<string, any> };

/** A request with exactly these headers (fetch would add its own Content-Type and cannot set Host). */
function rawPost(url: string, headers: Record<string, string>, body: string, method = 'POST'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('npm start server refuses what a web page (or another local user) can send', () => {
  const allowedOrigin = 'http://console.test:3000';
  const manifestPrefix = `local-server-hook-${randomBytes(4).toString('hex')}/`;
  let server: RunningServer;
  let dir: string;
  let host: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'local-server-xsite-'));
    server = await startServer({ AUTH_MODE: 'off', LOCAL_ALLOWED_ORIGINS: allowedOrigin, LOCAL_ALLOWED_HOSTS: '', RELEASE_MANIFEST_PREFIX: manifestPrefix });
    host = new URL(server.url).host;
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // An inline root script on the minion 127.0.0.1, i.e. this machine: it creates the canary file if it runs.
  let n = 0;
  const canaryCall = () => {
    const canary = join(dir, `canary-${++n}`);
    const body = JSON.stringify({
      inputs: [{ guid: 'x', endpointType: 'USER_PARAM', scriptContent: `#!/bin/sh\ntouch '${canary}'\n`, target: '127.0.0.1', runAs: 'root' }],
    });
    return { canary, body, url: `${server.url}/saltstack/v1/host-script/run` };
  };
  const browser = { origin: 'http://evil.example', 'content-type': 'text/plain;charset=UTF-8', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' };

  it.each<[string, number, () => Record<string, string>]>([
    ['a browser no-cors POST (Origin, text/plain, Sec-Fetch-Site cross-site)', 403, () => ({ host, ...browser })],
    ['a JSON POST with a foreign Origin', 403, () => ({ host, origin: 'http://evil.example', 'content-type': 'application/json' })],
    ['a JSON POST from another port of localhost', 403, () => ({ host, origin: 'http://localhost:8081', 'content-type': 'application/json' })],
    ['a JSON POST saying Sec-Fetch-Site cross-site without Origin', 403, () => ({ host, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' })],
    ['a text/plain POST without Origin', 415, () => ({ host, 'content-type': 'text/plain' })],
    ['a form POST (curl -d)', 415, () => ({ host, 'content-type': 'application/x-www-form-urlencoded' })],
    ['a multipart POST', 415, () => ({ host, 'content-type': 'multipart/form-data; boundary=b' })],
    ['a POST without Content-Type', 415, () => ({ host })],
    [
      'a DNS-rebound page (its own name in Host, JSON, same-origin)',
      421,
      () => ({ host: `evil.example:${new URL(server.url).port}`, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }),
    ],
    ['a POST naming another Host', 421, () => ({ host: 'rebind.test', 'content-type': 'application/json' })],
  ])('refuses %s with HTTP %i and the envelope, and the script never runs', async (_name, status, headers) => {
    const { canary, body, url } = canaryCall();
    const response = await rawPost(url, headers(), body);
    expect(existsSync(canary)).toBe(false);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ resultCode: '1', resultMessage: expect.any(String), results: null });
  });

  it('says what to send in a 415', async () => {
    const { body, url } = canaryCall();
    const response = await rawPost(url, { host, 'content-type': 'application/x-www-form-urlencoded' }, body);
    expect(response.body['resultMessage']).toBe(
      `Content-Type "application/x-www-form-urlencoded" refused: POST bodies must be sent with Content-Type: application/json (curl: -H 'Content-Type: application/json')`,
    );
  });

  it('runs the same call from a curl-like client with JSON: the canary is created', async () => {
    const { canary, body, url } = canaryCall();
    try {
      const response = await rawPost(url, { host, 'content-type': 'application/json', 'user-agent': 'curl/8.5.0', accept: '*/*' }, body);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ resultCode: '0', results: { outputs: [{ guid: 'x', retCode: 0, errorCode: '0' }] } });
      expect(existsSync(canary)).toBe(true);
    } finally {
      rmSync(canary, { force: true });
    }
  });

  it.each([
    ['localhost', (port: string) => `localhost:${port}`],
    ['127.0.0.1', (port: string) => `127.0.0.1:${port}`],
  ])('answers under the Host name %s', async (_name, hostOf) => {
    const response = await rawPost(
      `${server.url}/saltstack/v1/password/decode`,
      { host: hostOf(new URL(server.url).port), 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({ inputs: [{ ...seedExample, password: '251f54c3f5be75e171ae1eb516dbacd9' }] }),
    );
    expect(response.status).toBe(200);
    expect(response.body['results'].outputs[0].password).toBe('qq123456');
  });

  it('answers a browser page from an origin in LOCAL_ALLOWED_ORIGINS', async () => {
    const response = await rawPost(
      `${server.url}/saltstack/v1/password/decode`,
      { host, origin: allowedOrigin, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      JSON.stringify({ inputs: [{ ...seedExample, password: '251f54c3f5be75e171ae1eb516dbacd9' }] }),
    );
    expect(response.status).toBe(200);
    expect(response.body['results'].outputs[0].password).toBe('qq123456');
    expect(response.headers['access-control-allow-origin']).toBe(allowedOrigin);
    expect(server.output()).toContain(`browser origins allowed: ${allowedOrigin}`);
  });

  it('answers the CORS preflight of an allowed origin only', async () => {
    const preflight = (origin: string) =>
      rawPost(
        `${server.url}/saltstack/v1/password/decode`,
        { host, origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        '',
        'OPTIONS',
      );
    const allowed = await preflight(allowedOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': allowedOrigin, 'access-control-allow-methods': 'GET, POST' });
    const evil = await preflight('http://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  describe('the S3 event hook', () => {
    const bucket = stackEnv()['S3_BUCKET']!;
    const manifestKey = `${manifestPrefix}hook/deploy.release.json`;
    const resultKey = `${manifestPrefix}hook/deploy.release-result.json`;
    const rt = stackRuntime();
    const event = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: 'AWS:hook-test' },
          s3: { bucket: { name: bucket }, object: { key: manifestKey, eTag: '"0"' } },
        },
      ],
    });
    const resultExists = async () =>
      rt
        .store()
        .get({ bucket, key: resultKey, url: resultKey })
        .then(async ({ body }) => {
          for await (const _ of body) void _;
          return true;
        })
        .catch(() => false);
    afterAll(() =>
      rt
        .store()
        .remove({ bucket, key: resultKey, url: resultKey })
        .catch(() => undefined),
    );

    /** The hook URL serve.ts wrote for this server (the S3 server posts to every *.url there). */
    const hookFile = (): { path: string; url: string } => {
      const hooksDir = stackEnv()['STACK_S3_HOOKS_DIR']!;
      const files = readdirSync(hooksDir)
        .filter((f) => f.endsWith('.url'))
        .map((f) => ({ path: join(hooksDir, f), url: readFileSync(join(hooksDir, f), 'utf8').trim() }))
        .filter((h) => h.url.startsWith(`${server.url}/_local/s3-events/`));
      expect(files).toHaveLength(1);
      return files[0]!;
    };
    const hookUrl = () => hookFile().url;

    it('is written with a 32-hex secret in its path, in an owner-only file', () => {
      const { path, url } = hookFile();
      expect(url).toMatch(new RegExp(`^${server.url.replace(/\./g, '\\.')}/_local/s3-events/[0-9a-f]{32}$`));
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it.each([
      ['no secret', () => `${server.url}/_local/s3-events`],
      ['an empty secret', () => `${server.url}/_local/s3-events/`],
      ['a wrong secret', () => `${server.url}/_local/s3-events/${randomBytes(16).toString('hex')}`],
      ['the secret cut short', () => hookUrl().slice(0, -1)],
      ['the secret with a suffix', () => `${hookUrl()}0`],
      ['the secret as a query', () => `${server.url}/_local/s3-events?token=${hookUrl().slice(-32)}`],
    ])('refuses an event posted with %s (403) and handles nothing', async (_name, url) => {
      const response = await rawPost(url(), { host, 'content-type': 'application/json' }, event);
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ resultCode: '1', resultMessage: expect.stringContaining('secret missing or wrong'), results: null });
      expect(await resultExists()).toBe(false);
    });

    it('hands an event posted with the secret to the release trigger, which writes the manifest result', async () => {
      expect(await resultExists()).toBe(false);
      const response = await rawPost(hookUrl(), { host, 'content-type': 'application/json' }, event);
      expect(response.status).toBe(200);
      expect(await resultExists()).toBe(true);
    });
  });
});

describe('npm start with a short JWT key', () => {
  it("refuses to start with upstream's 20-byte default key, naming JWT_SIGNING_KEY", async () => {
    await expect(startServer({ AUTH_MODE: 'jwt', JWT_SIGNING_KEY: 'Platform+Auth+Server+Secret' })).rejects.toThrow(/JWT_SIGNING_KEY decodes to 20 bytes/);
  });
});

describe('npm start configuration from the stack', () => {
  it('names the stack master for agent/install (the seed example no longer stops at "minion_master_ip is empty")', () => {
    const env = stackEnv();
    expect(env['AGENT_MINION_MASTERS']).toBe('127.0.0.1');
    const agent = stackRuntime().config.agent;
    expect(agent.masters).toEqual(['127.0.0.1']);
    expect(String(agent.masterPort)).toBe(env['AGENT_MINION_MASTER_PORT']);
  });
});
