import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { AuthError, InputError, PluginError } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Runtime } from '../runtime-types.js';
import { buildResponse, errorResponse, parseEnvelope, type ResponseEnvelope } from './envelope.js';
import { jwtAuth } from './jwt-auth.js';
import type { Operation } from './operation.js';
import { resolveRoute } from './routes.js';
import { runOperation } from './run-operation.js';

type HttpResult = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const requestIdOf = (event: APIGatewayProxyEventV2, context: Context): string => context?.awsRequestId || event.requestContext?.requestId || 'local';

let fallback: Logger | undefined;

/** The runtime's logger, or a default one when there is no runtime to have it from (its config is invalid). */
function loggerOf(runtime: Pick<Runtime, 'logger'>): Logger {
  try {
    return runtime.logger;
  } catch {
    return (fallback ??= createLogger('info'));
  }
}

/**
 * Turns every failure before the items run into the WeCube envelope with the right HTTP status; a
 * ConfigError (the function's environment is invalid, found on the first call) is a PluginError: 502.
 */
export function envelopeErrors(runtime: Pick<Runtime, 'logger'>): MiddlewareObj<APIGatewayProxyEventV2, HttpResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      const logger = loggerOf(runtime).child({ requestId: requestIdOf(request.event, request.context) });
      if (error instanceof AuthError) {
        logger.warn('request rejected by auth', { reason: error.message, path: request.event.rawPath });
        request.response = json(401, errorResponse('Token illegal'));
      } else if (error instanceof InputError) {
        request.response = json(400, errorResponse(error.message));
      } else {
        logger.error('request failed', { error, path: request.event.rawPath });
        const message = error instanceof PluginError ? error.message : 'Internal error';
        request.response = json(error instanceof PluginError ? 502 : 500, errorResponse(message));
      }
    },
  };
}

/** The 404 envelope for a path that names no operation among `ops`, with upstream's texts. */
export function notFound(rawPath: string, ops: readonly Pick<Operation, 'plugin' | 'action'>[]): HttpResult {
  const route = resolveRoute(rawPath);
  const plugin = route?.plugin ?? rawPath.split('/')[3] ?? '';
  const message = route && ops.some((o) => o.plugin === plugin) ? `${plugin} plugin, action = ${route.action} not found` : `plugin[${plugin}] not found`;
  return json(404, errorResponse(message));
}

/**
 * JWT auth unless AUTH_MODE=off, decided on the first request (the runtime's config is read then, not when
 * the handler is built) and kept while the key is the same: a rotated secret brings a new key, and a new
 * config with it.
 */
function platformAuth(runtime: Pick<Runtime, 'config'>): MiddlewareObj<APIGatewayProxyEventV2, HttpResult> {
  let auth: { key: Uint8Array | undefined; check: MiddlewareObj<APIGatewayProxyEventV2> | null } | undefined;
  return {
    before: async (request) => {
      const key = runtime.config.authMode === 'jwt' ? runtime.config.jwtKey! : undefined;
      if (!auth || auth.key !== key) auth = { key, check: key ? jwtAuth({ key }) : null };
      await auth.check?.before?.(request as never);
    },
  };
}

/** Brings the runtime up to date (SECRETS_ID fetched or refetched) before anything reads its config. */
function runtimeReady(runtime: Pick<Runtime, 'ready'>): MiddlewareObj<APIGatewayProxyEventV2, HttpResult> {
  return {
    // (nothing returned: a `before` that returns a value is middy's early response)
    before: async () => {
      await runtime.ready?.();
    },
  };
}

/**
 * The HTTP handler (API Gateway HTTP API or Lambda Function URL event) for one or more operations:
 * JWT auth unless AUTH_MODE=off, envelope parsing, per-item validation and run, response envelope.
 * Building it reads nothing of the runtime: a deferred one is resolved by the first request.
 */
export function makeHttpHandler(ops: readonly Operation[], runtime: Runtime) {
  const byRoute = new Map(ops.map((op) => [`${op.plugin}/${op.action}`, op]));
  const handler = middy<APIGatewayProxyEventV2, HttpResult>().use(envelopeErrors(runtime)).use(runtimeReady(runtime)).use(platformAuth(runtime));
  return handler.handler(async (event, context, { signal }) => {
    const route = resolveRoute(event.rawPath ?? '');
    const op = route && byRoute.get(`${route.plugin}/${route.action}`);
    if (!op) return notFound(event.rawPath ?? '', ops);
    const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const inputs = parseEnvelope(body, runtime.config.maxItemsPerRequest);
    const logger = runtime.logger.child({ requestId: requestIdOf(event, context), operation: `${op.plugin}/${op.action}` });
    const started = Date.now();
    const outputs = await runOperation(op, inputs, { logger, signal, concurrency: runtime.config.itemConcurrency });
    const response = buildResponse(outputs);
    logger.info('request done', { items: inputs.length, resultCode: response.resultCode, ms: Date.now() - started });
    return json(200, response);
  });
}

/** The Step Functions task handler: takes `{inputs:[...]}` and returns the envelope (no HTTP wrapping). */
export function makeTaskHandler(op: Operation, runtime: Runtime) {
  return async (event: { inputs?: unknown }, context?: Partial<Context>): Promise<ResponseEnvelope> => {
    await runtime.ready?.();
    const inputs = parseEnvelope(JSON.stringify(event ?? {}), runtime.config.maxItemsPerRequest);
    const logger = runtime.logger.child({ requestId: context?.awsRequestId ?? 'task', operation: `${op.plugin}/${op.action}` });
    const remaining = context?.getRemainingTimeInMillis?.() ?? 15 * 60_000;
    const signal = AbortSignal.timeout(Math.max(1000, remaining - 2000));
    return buildResponse(await runOperation(op, inputs, { logger, signal, concurrency: runtime.config.itemConcurrency }));
  };
}
