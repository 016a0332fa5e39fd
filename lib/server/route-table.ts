/**
 * Which handler serves a request, for the servers that run the functions' handlers in one process (the
 * production server and `npm start`): the same routes as the deployed HTTP API (lib/wecube/routes.ts),
 * the OpenAPI document at GET /saltstack/v1/openapi.json, upstream's 404 texts, 405 for another method.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { errorResponse } from '../wecube/envelope.js';
import { notFound } from '../wecube/http-handler.js';
import { resolveRoute } from '../wecube/routes.js';

/** A function's HTTP handler, as deployed (API Gateway payload 2.0 in, structured result out). */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** What a functions/*.ts module exports that a server uses. */
export interface FunctionModule {
  operation?: { plugin: string; action: string };
  handler?: unknown;
}

/** The handlers by `<plugin>/<action>`, the OpenAPI handler, and the operations (for the 404 texts). */
export interface RouteTable {
  byRoute: ReadonlyMap<string, HttpHandler>;
  openapi?: HttpHandler | undefined;
  operations: ReadonlyArray<{ plugin: string; action: string }>;
}

export const OPENAPI_PATH = '/saltstack/v1/openapi.json';

/** The route table of function modules keyed by file name (without .ts): operations and `openapi`; others are ignored. */
export function routeTableOf(modules: Iterable<readonly [file: string, module: FunctionModule]>): RouteTable {
  const byRoute = new Map<string, HttpHandler>();
  const operations: Array<{ plugin: string; action: string }> = [];
  let openapi: HttpHandler | undefined;
  for (const [file, mod] of modules) {
    if (mod.operation) {
      byRoute.set(`${mod.operation.plugin}/${mod.operation.action}`, mod.handler as HttpHandler);
      operations.push({ plugin: mod.operation.plugin, action: mod.operation.action });
    } else if (file === 'openapi') openapi = mod.handler as HttpHandler;
  }
  return { byRoute, openapi, operations };
}

/** The handler for a method and path, or the response when none serves it (404, 405). */
export function dispatch(
  table: RouteTable,
  method: string | undefined,
  pathname: string,
): { handler: HttpHandler } | { response: APIGatewayProxyStructuredResultV2 } {
  const route = resolveRoute(pathname);
  let handler: HttpHandler | undefined;
  if (method === 'GET' && pathname === OPENAPI_PATH) handler = table.openapi;
  else if (method === 'POST') handler = route && table.byRoute.get(`${route.plugin}/${route.action}`);
  else if (route) {
    return {
      response: {
        statusCode: 405,
        headers: { 'content-type': 'application/json', allow: 'POST' },
        body: JSON.stringify(errorResponse(`method ${method} not allowed`)),
      },
    };
  }
  return handler ? { handler } : { response: notFound(pathname, table.operations) };
}
