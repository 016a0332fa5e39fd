/** The event a Lambda Function URL delivers (API Gateway payload 2.0), as AWS documents it, for the router tests. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface FunctionUrlRequest {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body base64-encoded, as a Function URL does for a content type it does not take for text. */
  base64?: boolean;
}

/** A Function URL event: `rawPath`, `requestContext.http.method`, lower-case headers, the body as a string. */
export function functionUrlEvent({ method, path, body, headers = {}, base64 = false }: FunctionUrlRequest): APIGatewayProxyEventV2 {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const [rawPath, rawQueryString = ''] = path.split('?') as [string, string?];
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json', host: 'abcdefghijklmnop.lambda-url.ap-southeast-1.on.aws', ...headers },
    ...(text !== undefined && { body: base64 ? Buffer.from(text).toString('base64') : text }),
    isBase64Encoded: base64,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnop',
      domainName: 'abcdefghijklmnop.lambda-url.ap-southeast-1.on.aws',
      domainPrefix: 'abcdefghijklmnop',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'router-test' },
      requestId: `router-test-${Math.random().toString(16).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  } as unknown as APIGatewayProxyEventV2;
}
