/**
 * functions/router.ts, the handler behind the stack's one Function URL, called with Function URL events
 * (payload 2.0) as deployed: AUTH_MODE=jwt, its environment read on the first call. Every request here is
 * answered without network (password/encode is crypto; the host-script item fails its validation first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { SignJWT } from 'jose';
import { functionUrlEvent, type FunctionUrlRequest } from '../support/function-url-event.js';
import { lambdaContext } from './helpers.js';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const key = new Uint8Array(randomBytes(64));
const otherKey = new Uint8Array(randomBytes(64));
const SET = { STAGE: 'unit', AUTH_MODE: 'jwt', JWT_SIGNING_KEY: Buffer.from(key).toString('base64'), LOG_LEVEL: 'error' } as const;
const saved = Object.fromEntries(Object.keys(SET).map((k) => [k, process.env[k]]));
// The seed's example: guid 1234, seed abc12345, qq123456 encrypts to this.
const seedExample = { guid: '1234', seed: 'abc12345', password: 'qq123456' };
const CIPHER = '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9';

const token = (signWith = key) =>
  new SignJWT({ authority: '[SUB_SYSTEM]' }).setProtectedHeader({ alg: 'HS512' }).setSubject('SYS_PLATFORM').setExpirationTime('5m').sign(signWith);

let handler: Handler;
const call = async (request: FunctionUrlRequest) => {
  const res = await handler(functionUrlEvent(request), lambdaContext(60_000));
  return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(res.body ?? 'null') as Record<string, any> };
};

beforeAll(async () => {
  Object.assign(process.env, SET);
  // imported after the environment is set (it is read on the first call, but be explicit about the order)
  ({ handler } = (await import('../../functions/router.js')) as { handler: Handler });
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('the router (Function URL events, AUTH_MODE=jwt)', () => {
  it('runs password/encode at its current path with a platform token', async () => {
    const res = await call({
      method: 'POST',
      path: '/saltstack/v1/password/encode',
      body: { inputs: [seedExample] },
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      resultCode: '0',
      resultMessage: 'success',
      results: { outputs: [{ guid: '1234', password: CIPHER, errorCode: '0', errorMessage: '' }] },
    });
  });

  it('runs the same operation at its /v1/deploy alias, with a base64 body as a Function URL may send it', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/deploy/password/encode',
      body: { inputs: [seedExample] },
      base64: true,
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(res.status).toBe(200);
    expect(res.body['results']['outputs'][0]['password']).toBe(CIPHER);
  });

  it("reaches host-script/run at the old guide's /v1/deploy/script/run (its own validation answers)", async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/deploy/script/run',
      body: { inputs: [{ guid: 'g1', endpointType: 'USER_PARAM', scriptContent: 'echo hi' }] },
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(res.status).toBe(200);
    expect(res.body['resultCode']).toBe('1');
    expect(res.body['results']['outputs'][0]).toMatchObject({ guid: 'g1', errorCode: '1', errorMessage: expect.stringMatching(/target/) });
  });

  it.each([
    ['no token', {}],
    ['a token signed with another key', 'other'],
    ['a malformed bearer', { authorization: 'Bearer not-a-jwt' }],
  ])('refuses password/encode with %s: 401 Token illegal, nothing run', async (_name, how) => {
    const headers = how === 'other' ? { authorization: `Bearer ${await token(otherKey)}` } : (how as Record<string, string>);
    const res = await call({ method: 'POST', path: '/saltstack/v1/password/encode', body: { inputs: [seedExample] }, headers });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
  });

  it('refuses an alias without a token too (the JWT check is the Function URL gate)', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/deploy/script/run',
      body: { inputs: [{ guid: 'g1', target: '127.0.0.1', scriptContent: 'echo hi' }] },
    });
    expect(res.status).toBe(401);
  });

  it('serves GET /saltstack/v1/openapi.json: the generated document', async () => {
    const res = await call({ method: 'GET', path: '/saltstack/v1/openapi.json' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual(JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')));
  });

  it.each([
    ['/not/a/route', 'no route for path /not/a/route'],
    ['/saltstack/v2/password/encode', 'no route for path /saltstack/v2/password/encode'],
    ['/saltstack/v1/nope/run', 'plugin[nope] not found'],
    ['/saltstack/v1/password/nope', 'password plugin, action = nope not found'],
  ])('answers POST %s with 404 %j', async (path, message) => {
    const res = await call({ method: 'POST', path, body: { inputs: [] }, headers: { authorization: `Bearer ${await token()}` } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ resultCode: '1', resultMessage: message, results: null });
  });

  it('cuts a long unknown path in its 404 text', async () => {
    const res = await call({ method: 'POST', path: `/${'x'.repeat(5000)}` });
    expect(res.status).toBe(404);
    expect(res.body['resultMessage'].length).toBeLessThan(260);
  });

  it.each([
    ['GET', '/saltstack/v1/password/encode', 'POST'],
    ['PUT', '/v1/deploy/script/run', 'POST'],
    ['POST', '/saltstack/v1/openapi.json', 'GET'],
    ['DELETE', '/saltstack/v1/openapi.json', 'GET'],
  ])('answers %s %s with 405, allow %s', async (method, path, allow) => {
    const res = await call({ method, path, headers: { authorization: `Bearer ${await token()}` } });
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe(allow);
    expect(res.body['resultCode']).toBe('1');
  });
});
