/**
 * The HTTP server core shared by the production server (lib/server/main.ts) and `npm start`
 * (scripts/lib/local-adapter.ts): a Node request becomes the API Gateway payload 2.0 event a Function URL
 * delivers, the deployed handler answers it, its structured result becomes the reply.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorResponse } from '../wecube/envelope.js';
import { httpEventOf, lambdaContext } from './lambda-event.js';
import { MAX_BODY_BYTES, readBody } from './read-body.js';
import { dispatch, type RouteTable } from './route-table.js';

/** An intercept's decision: it answered the request itself, or the request goes on (with extra reply headers). */
export type Interception = { answered: true } | { answered?: false; headers?: Record<string, string> };

/** Options of createHttpServer. */
export interface HttpServerOptions {
  routes: RouteTable;
  /** Runs first, before the body is read: a request it refuses runs nothing. */
  intercept?: (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => Promise<Interception> | Interception;
  maxBodyBytes?: number;
  /** The deadline the handlers see; 15 minutes, a Function URL's (and Lambda's) limit, by default. */
  timeoutMs?: number;
  /** Told about a failure outside the handlers' own envelopes (answered 500 naming the request id). */
  onError?: (error: unknown, requestId: string) => void;
}

/** Writes a JSON reply (an envelope, or any body) with a status and extra headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** An http.Server serving `routes` (not listening yet: see listen). */
export function createHttpServer(options: HttpServerOptions): Server {
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const server: Server = createServer(async (req, res) => {
    const requestId = randomUUID();
    // Once the server is closing (SIGTERM), a kept-alive connection gets no next request.
    if (!server.listening) res.setHeader('connection', 'close');
    try {
      const url = new URL(req.url ?? '/', 'http://server');
      const interception = (await options.intercept?.(req, res, url, requestId)) ?? {};
      if (interception.answered) return;
      const extra = interception.headers ?? {};
      const body = await readBody(req, maxBody);
      if (body === undefined) {
        // The rest of the body is not read: close the connection rather than drain it.
        return sendJson(res, 413, errorResponse(`request body larger than ${maxBody} bytes`), { ...extra, connection: 'close' });
      }
      const target = dispatch(options.routes, req.method, url.pathname);
      const result = 'handler' in target ? await target.handler(httpEventOf(req, url, body, requestId), lambdaContext(requestId, timeoutMs)) : target.response;
      // Checked again now: the server may have started closing while the handler ran.
      if (!server.listening) res.setHeader('connection', 'close');
      res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string> | undefined), ...extra });
      res.end(result.body ?? '');
    } catch (error) {
      options.onError?.(error, requestId);
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, errorResponse(`Internal error (request ${requestId})`));
    }
  });
  return server;
}

/** Starts listening; resolves with the bound address (the port, when 0 was asked), rejects on EADDRINUSE etc. */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops taking connections and waits up to `graceMs` for the requests in flight; true when they all
 * finished, false when the grace ran out (their connections are then cut).
 */
export function drain(server: Server, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve(false);
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve(true);
    });
    server.closeIdleConnections();
  });
}
