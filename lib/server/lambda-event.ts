/**
 * The Lambda side of a Node HTTP request: the API Gateway HTTP API (payload 2.0) event a Function URL
 * would deliver, and a Context whose deadline the handlers read, so that a server runs the very handlers
 * that are deployed.
 */
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** The payload 2.0 event of one request (headers joined as API Gateway joins repeated ones: by commas). */
export function httpEventOf(req: IncomingMessage, url: URL, body: string, requestId: string): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
  return {
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
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
    },
  } as unknown as APIGatewayProxyEventV2;
}

/** A Lambda Context for one request, `timeoutMs` from now (middy aborts the handler's signal then). */
export function lambdaContext(requestId: string, timeoutMs: number, functionName = 'local'): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: functionName,
    logStreamName: functionName,
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
