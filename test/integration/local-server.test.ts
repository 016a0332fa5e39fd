import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { postJson, startServer, type RunningServer } from '../support/server.js';

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
  const key = randomBytes(32);
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'jwt', JWT_SIGNING_KEY: key.toString('base64') });
  });
  afterAll(() => server.stop());

  const token = (authority: unknown) =>
    new SignJWT({ authority })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('WECUBE')
      .setExpirationTime('5m')
      .sign(key);
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
