import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { errorResponse } from '../../lib/wecube/envelope.js';
import { notFound } from '../../lib/wecube/http-handler.js';
import { resolveRoute } from '../../lib/wecube/routes.js';
import { acceptedHosts, guardLocalRequest, type Refusal } from './local-request-guard.js';
import { hookSecretMatches } from './s3-hook-secret.js';

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type S3EventHandler = (event: unknown) => Promise<unknown>;
interface FunctionModule {
  operation?: { plugin: string; action: string };
  handler: HttpHandler;
}

const MAX_BODY = 8 * 1024 * 1024;

/** Where the local S3 server posts its event notifications (not an API route: local only). */
export const S3_EVENTS_PATH = '/_local/s3-events';

/** The hook URL path for one server start: S3_EVENTS_PATH followed by the start's secret. */
export const s3EventsPath = (secret: string) => `${S3_EVENTS_PATH}/${secret}`;

/** Options of startLocalServer beyond where to listen. */
export interface LocalServerOptions {
  functionsDir: string;
  host: string;
  port: number;
  /** Browser origins allowed to call (LOCAL_ALLOWED_ORIGINS); none by default. */
  allowedOrigins?: readonly string[];
  /** Extra Host header values (LOCAL_ALLOWED_HOSTS) besides 127.0.0.1, localhost and [::1] with the port. */
  allowedHosts?: readonly string[];
  /** The secret the S3 event hook path must end with; without one the hook refuses every post. */
  s3EventsSecret?: string;
}

/** Loads every functions/*.ts module: the very handlers that are deployed, keyed by route. */
export async function loadFunctions(functionsDir: string) {
  const byRoute = new Map<string, HttpHandler>();
  const operations: Array<{ plugin: string; action: string }> = [];
  let openapi: HttpHandler | undefined;
  let s3Events: S3EventHandler | undefined;
  for (const file of readdirSync(functionsDir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const mod = (await import(pathToFileURL(join(functionsDir, file)).href)) as FunctionModule;
    if (mod.operation) {
      byRoute.set(`${mod.operation.plugin}/${mod.operation.action}`, mod.handler);
      operations.push(mod.operation);
    } else if (file === 'openapi.ts') openapi = mod.handler;
    else if (file === 'release-trigger.ts') s3Events = mod.handler as unknown as S3EventHandler;
  }
  return { byRoute, openapi, operations, s3Events };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function lambdaContext(requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: requestId,
    functionName: 'local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:local',
    memoryLimitInMB: '512',
    logGroupName: 'local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * A local HTTP server that turns requests into API Gateway HTTP API (payload 2.0) events and calls the
 * same handler a deployed function runs, like a Function URL with its 15-minute limit. Requests from web
 * pages, under another Host name or without a JSON Content-Type are refused first (local-request-guard.ts).
 */
export async function startLocalServer(options: LocalServerOptions): Promise<Server> {
  const { byRoute, openapi, operations, s3Events } = await loadFunctions(options.functionsDir);
  const allowedOrigins = options.allowedOrigins ?? [];
  // Set once listening: with port 0 the port (part of every accepted Host) is known only then.
  let hosts: ReadonlySet<string> = new Set();
  const refuse = (res: ServerResponse, refusal: Refusal) => {
    res.writeHead(refusal.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(errorResponse(refusal.message)));
  };
  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      // Before the body is read: a refused request runs nothing.
      const refusal = guardLocalRequest(req, { acceptedHosts: hosts, allowedOrigins });
      if (refusal) return refuse(res, refusal);
      // Past the guard, an Origin is an allowed one: answer its CORS preflight (a JSON POST needs one) and
      // let it read the replies.
      const origin = req.headers.origin;
      const cors: Record<string, string> = origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
      if (origin && req.method === 'OPTIONS') {
        res.writeHead(204, {
          ...cors,
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'authorization, content-type',
          'access-control-max-age': '600',
        });
        return res.end();
      }
      // The local S3 server's notifications (scripts/stack/s3-server.cjs), delivered as S3 would to the
      // release trigger function: a `*.release.json` upload starts a release. Only the S3 server knows the
      // secret (serve.ts writes it into the hook file it reads).
      if (url.pathname === S3_EVENTS_PATH || url.pathname.startsWith(`${S3_EVENTS_PATH}/`)) {
        const given = url.pathname.slice(S3_EVENTS_PATH.length + 1);
        if (req.method !== 'POST' || !s3Events || !options.s3EventsSecret || !hookSecretMatches(given, options.s3EventsSecret)) {
          return refuse(res, {
            status: 403,
            message: 'S3 event hook: secret missing or wrong (the hook URL is in the file serve.ts writes to STACK_S3_HOOKS_DIR)',
          });
        }
        const outcome = await s3Events(JSON.parse(await readBody(req)));
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(outcome));
      }
      const body = await readBody(req);
      const route = resolveRoute(url.pathname);
      let handler: HttpHandler | undefined;
      if (req.method === 'GET' && url.pathname === '/saltstack/v1/openapi.json') handler = openapi;
      else if (req.method === 'POST') handler = route && byRoute.get(`${route.plugin}/${route.action}`);
      else if (route) {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'POST', ...cors });
        return res.end(JSON.stringify({ resultCode: '1', resultMessage: `method ${req.method} not allowed`, results: null }));
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
      const event = {
        version: '2.0',
        routeKey: `${req.method} ${url.pathname}`,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        body,
        isBase64Encoded: false,
        requestContext: {
          requestId,
          http: {
            method: req.method ?? 'GET',
            path: url.pathname,
            protocol: 'HTTP/1.1',
            sourceIp: req.socket.remoteAddress ?? '',
            userAgent: headers['user-agent'] ?? '',
          },
        },
      } as unknown as APIGatewayProxyEventV2;
      const result = handler ? await handler(event, lambdaContext(requestId, 15 * 60_000)) : notFound(url.pathname, operations);
      res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string> | undefined), ...cors });
      res.end(result.body ?? '');
    } catch {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ resultCode: '1', resultMessage: `Internal error (request ${requestId})`, results: null }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  hosts = acceptedHosts({ port: (server.address() as AddressInfo).port, allowedHosts: options.allowedHosts ?? [] });
  return server;
}
