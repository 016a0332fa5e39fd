/**
 * The router behind the stack's one Function URL: a caller with one base URL (WeCube) reaches every route of
 * every operation and the OpenAPI document there, for up to 15 minutes, where the HTTP API cuts at 30 s.
 * It picks the operation's own deployed handler (the dispatch rules of lib/server/route-table.ts, which the
 * servers use too) and calls it in-process with the Function URL event as is: a Function URL delivers API
 * Gateway payload 2.0, the shape every handler already takes (rawPath, requestContext.http.method, body,
 * isBase64Encoded, headers).
 *
 * The Function URL is AuthType AWS_IAM by default (SigV4), or NONE with `--param routerUrlAuth=NONE` (WeCube
 * cannot SigV4-sign); either way authentication is also the handlers' own JWT check (AUTH_MODE=jwt, the
 * deployed setting): each operation handler refuses a request without a valid platform token with 401
 * before reading its body. Only the OpenAPI document, a 404 and a 405 answer
 * without one, as on the HTTP API.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { dispatch, OPENAPI_PATH, type RouteTable } from '../server/route-table.js';
import { errorResponse } from '../wecube/envelope.js';
import { resolveRoute } from '../wecube/routes.js';

type HttpResult = APIGatewayProxyStructuredResultV2;

/** A path echoed in a 404 is cut here: the reply names it without carrying whatever a caller sent. */
const MAX_ECHOED_PATH = 200;

const reply = (statusCode: number, message: string, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(errorResponse(message)),
});

/**
 * The Function URL handler over a route table: POST on an operation's path or alias runs that operation's
 * handler; GET /saltstack/v1/openapi.json the document; another method on a known path is 405, a path of
 * no route 404 naming it (an unknown plugin or action of the route shape keeps upstream's 404 texts).
 */
export function makeFunctionUrlRouter(table: RouteTable) {
  return async (event: APIGatewayProxyEventV2, context: Context): Promise<HttpResult> => {
    const path = event.rawPath ?? '';
    const method = event.requestContext?.http?.method;
    if (path === OPENAPI_PATH && method !== 'GET') return reply(405, `method ${method} not allowed on ${OPENAPI_PATH}`, { allow: 'GET' });
    if (path !== OPENAPI_PATH && !resolveRoute(path)) return reply(404, `no route for path ${path.slice(0, MAX_ECHOED_PATH)}`);
    const target = dispatch(table, method, path);
    return 'response' in target ? target.response : target.handler(event, context);
  };
}
