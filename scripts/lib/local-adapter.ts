import { readdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHttpServer, listen, sendJson, type Interception } from '../../lib/server/http-server.js';
import { readBody } from '../../lib/server/read-body.js';
import { type FunctionModule, routeTableOf } from '../../lib/server/route-table.js';
import { errorResponse } from '../../lib/wecube/envelope.js';
import { acceptedHosts, guardLocalRequest, type Refusal } from './local-request-guard.js';
import { hookSecretMatches } from './s3-hook-secret.js';

type S3EventHandler = (event: unknown) => Promise<unknown>;

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
  const modules: Array<[string, FunctionModule]> = [];
  for (const file of readdirSync(functionsDir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    modules.push([file.replace(/\.ts$/, ''), (await import(pathToFileURL(join(functionsDir, file)).href)) as FunctionModule]);
  }
  const s3Events = modules.find(([file]) => file === 'release-trigger')?.[1].handler as S3EventHandler | undefined;
  return { ...routeTableOf(modules), s3Events };
}

/**
 * A local HTTP server that turns requests into API Gateway HTTP API (payload 2.0) events and calls the
 * same handler a deployed function runs, like a Function URL with its 15-minute limit (lib/server/http-server.ts,
 * shared with the production server). Requests from web pages, under another Host name or without a JSON
 * Content-Type are refused first (local-request-guard.ts).
 */
export async function startLocalServer(options: LocalServerOptions): Promise<Server> {
  const { s3Events, ...routes } = await loadFunctions(options.functionsDir);
  const allowedOrigins = options.allowedOrigins ?? [];
  // Set once listening: with port 0 the port (part of every accepted Host) is known only then.
  let hosts: ReadonlySet<string> = new Set();
  const refuse = (res: ServerResponse, refusal: Refusal) => sendJson(res, refusal.status, errorResponse(refusal.message));
  const intercept = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<Interception> => {
    // Before the body is read: a refused request runs nothing.
    const refusal = guardLocalRequest(req, { acceptedHosts: hosts, allowedOrigins });
    if (refusal) {
      refuse(res, refusal);
      return { answered: true };
    }
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
      res.end();
      return { answered: true };
    }
    // The local S3 server's notifications (scripts/stack/s3-server.cjs), delivered as S3 would to the
    // release trigger function: a `*.release.json` upload starts a release. Only the S3 server knows the
    // secret (serve.ts writes it into the hook file it reads).
    if (url.pathname === S3_EVENTS_PATH || url.pathname.startsWith(`${S3_EVENTS_PATH}/`)) {
      const given = url.pathname.slice(S3_EVENTS_PATH.length + 1);
      if (req.method !== 'POST' || !s3Events || !options.s3EventsSecret || !hookSecretMatches(given, options.s3EventsSecret)) {
        refuse(res, {
          status: 403,
          message: 'S3 event hook: secret missing or wrong (the hook URL is in the file serve.ts writes to STACK_S3_HOOKS_DIR)',
        });
        return { answered: true };
      }
      const body = await readBody(req);
      if (body === undefined) throw new Error('S3 event body too large');
      sendJson(res, 200, await s3Events(JSON.parse(body)));
      return { answered: true };
    }
    return { headers: cors };
  };
  const server = createHttpServer({ routes, intercept });
  const { port } = await listen(server, options.port, options.host);
  hosts = acceptedHosts({ port, allowedHosts: options.allowedHosts ?? [] });
  return server;
}
