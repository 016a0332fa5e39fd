import { afterEach, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createHttpServer, drain, listen } from '../../../lib/server/http-server.js';
import { dispatch, type HttpHandler, type RouteTable } from '../../../lib/server/route-table.js';
import { deferred } from '../helpers.js';

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: any };

/** One request on its own connection; `body` is sent as it is. */
function call(port: number, method: string, path: string, body = '', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const seen: Array<{ event: APIGatewayProxyEventV2; context: Context }> = [];
const echo: HttpHandler = async (event, context) => {
  seen.push({ event, context });
  return { statusCode: 200, headers: { 'content-type': 'application/json', 'x-from': 'handler' }, body: JSON.stringify({ path: event.rawPath }) };
};
const table: RouteTable = {
  byRoute: new Map([['password/encode', echo]]),
  openapi: async () => ({ statusCode: 200, body: '{"openapi":"3.1.0"}' }),
  operations: [{ plugin: 'password', action: 'encode' }],
};

let server: Server | undefined;
afterEach(async () => {
  seen.length = 0;
  if (server?.listening) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

async function start(options: Partial<Parameters<typeof createHttpServer>[0]> = {}): Promise<number> {
  server = createHttpServer({ routes: table, ...options });
  return (await listen(server, 0, '127.0.0.1')).port;
}

describe('createHttpServer', () => {
  it('hands the handler an API Gateway payload 2.0 event and a 15-minute context', async () => {
    const port = await start();
    const reply = await call(port, 'POST', '/saltstack/v1/password/encode?x=1', '{"inputs":[]}', { 'content-type': 'application/json', 'x-two': 'a' });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-from']).toBe('handler');
    const { event, context } = seen[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /saltstack/v1/password/encode',
      rawPath: '/saltstack/v1/password/encode',
      rawQueryString: 'x=1',
      body: '{"inputs":[]}',
      isBase64Encoded: false,
      headers: { 'content-type': 'application/json', 'x-two': 'a' },
      requestContext: { http: { method: 'POST', path: '/saltstack/v1/password/encode', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' } },
    });
    expect(event.requestContext.requestId).toBe(context.awsRequestId);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(14 * 60_000);
  });

  it('serves the aliases of the registry', async () => {
    const port = await start();
    expect((await call(port, 'POST', '/v1/deploy/password/encode', '{}')).status).toBe(200);
    expect(seen[0]!.event.rawPath).toBe('/v1/deploy/password/encode');
  });

  it.each([
    ['an unknown plugin', 'POST', '/saltstack/v1/nothing/here', 404, 'plugin[nothing] not found'],
    ['an unknown action', 'POST', '/saltstack/v1/password/frobnicate', 404, 'password plugin, action = frobnicate not found'],
    ['GET on an operation', 'GET', '/saltstack/v1/password/encode', 405, 'method GET not allowed'],
  ])('answers %s (%s %s) with the envelope and HTTP %i', async (_, method, path, status, message) => {
    const port = await start();
    const reply = await call(port, method, path);
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ resultCode: '1', resultMessage: message, results: null });
    expect(seen).toHaveLength(0);
  });

  it('serves GET /saltstack/v1/openapi.json from the openapi handler', async () => {
    const port = await start();
    expect((await call(port, 'GET', '/saltstack/v1/openapi.json')).body).toEqual({ openapi: '3.1.0' });
  });

  it('refuses a body past the limit with 413 before the handler runs', async () => {
    const port = await start({ maxBodyBytes: 1000 });
    const reply = await call(port, 'POST', '/saltstack/v1/password/encode', 'x'.repeat(1001));
    expect(reply.status).toBe(413);
    expect(reply.body.resultMessage).toBe('request body larger than 1000 bytes');
    expect(seen).toHaveLength(0);
    expect((await call(port, 'POST', '/saltstack/v1/password/encode', 'x'.repeat(1000))).status).toBe(200);
  });

  it('answers 500 naming the request id when a handler throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const failing: RouteTable = { ...table, byRoute: new Map([['password/encode', async () => Promise.reject(new Error('boom'))]]) };
    server = createHttpServer({ routes: failing, onError: (error) => errors.push(error) });
    const { port } = await listen(server, 0, '127.0.0.1');
    const reply = await call(port, 'POST', '/saltstack/v1/password/encode', '{}');
    expect(reply.status).toBe(500);
    expect(reply.body.resultMessage).toMatch(/^Internal error \(request [0-9a-f-]{36}\)$/);
    expect(reply.body.resultMessage).not.toContain('boom');
    expect(errors).toEqual([new Error('boom')]);
  });

  it('lets an intercept answer before the body is read, or add reply headers', async () => {
    const port = await start({
      intercept: (req, res, url) => {
        if (url.pathname === '/mine') {
          res.writeHead(204).end();
          return { answered: true };
        }
        return { headers: { 'x-extra': req.method ?? '' } };
      },
    });
    expect((await call(port, 'POST', '/mine', 'x'.repeat(100))).status).toBe(204);
    expect(seen).toHaveLength(0);
    expect((await call(port, 'POST', '/saltstack/v1/password/encode', '{}')).headers['x-extra']).toBe('POST');
    expect((await call(port, 'POST', '/saltstack/v1/nothing/here')).headers['x-extra']).toBe('POST');
  });
});

describe('drain', () => {
  it('waits for a request in flight, which gets its reply with Connection: close', async () => {
    const release = deferred();
    const entered = deferred();
    const slow: RouteTable = {
      ...table,
      byRoute: new Map([
        [
          'password/encode',
          async () => {
            entered.resolve();
            await release.promise;
            return { statusCode: 200, body: '{"done":true}' };
          },
        ],
      ]),
    };
    server = createHttpServer({ routes: slow });
    const { port } = await listen(server, 0, '127.0.0.1');
    const inFlight = call(port, 'POST', '/saltstack/v1/password/encode', '{}', { connection: 'keep-alive' });
    await entered.promise;
    const drained = drain(server, 10_000);
    expect(server.listening).toBe(false);
    release.resolve();
    const reply = await inFlight;
    expect(reply.body).toEqual({ done: true });
    expect(reply.headers['connection']).toBe('close');
    await expect(drained).resolves.toBe(true);
  });

  it('cuts the connections still busy when the grace runs out, and says so', async () => {
    const never: RouteTable = { ...table, byRoute: new Map([['password/encode', () => new Promise<never>(() => undefined)]]) };
    server = createHttpServer({ routes: never });
    const { port } = await listen(server, 0, '127.0.0.1');
    const inFlight = call(port, 'POST', '/saltstack/v1/password/encode', '{}');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(drain(server, 200)).resolves.toBe(false);
    await expect(inFlight).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});

describe('dispatch', () => {
  it.each([
    ['POST', '/saltstack/v1/password/encode/', 'handler'],
    ['POST', '/v1/deploy/password/encode', 'handler'],
    ['GET', '/saltstack/v1/openapi.json', 'handler'],
    ['POST', '/saltstack/v1/openapi.json', 404],
    ['GET', '/elsewhere', 404],
    ['DELETE', '/v1/deploy/password/encode', 405],
  ])('%s %s -> %s', (method, path, expected) => {
    const target = dispatch(table, method, path);
    expect('handler' in target ? 'handler' : target.response.statusCode).toBe(expected);
  });
});
