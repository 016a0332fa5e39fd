/** Small fixture helpers shared by the unit tests (no network, no mocks). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createLogger, type LogLevel, type Logger } from '../../lib/log/logger.js';

/** A logger writing into an array, so tests can grep every line it produced. */
export function captureLogger(level: LogLevel = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger(level, (line) => lines.push(line)), lines };
}

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback and I/O callback run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const SAMPLES_DIR = fileURLToPath(new URL('../../../shared/reference/salt-api-samples/', import.meta.url));

/**
 * The capture tool summarised very long strings as `{__truncated_string__, head, tail}`; salt sent the
 * whole string, so tests put head and tail back together (the middle is irrelevant to every check).
 */
function untruncate(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untruncate);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (v['__truncated_string__'] === true) return `${String(v['head'])}\n...\n${String(v['tail'])}`;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, untruncate(x)]));
  }
  return value;
}

export interface Sample {
  file: string;
  request: { method: string; path: string; body: unknown };
  response: { status: number | string; headers: Record<string, string>; body: unknown };
}

/** Reads a captured salt-api exchange by its number (`'118'`), with truncated strings re-joined. */
export function loadSample(number: string): Sample {
  const file = readdirSync(SAMPLES_DIR).find((f) => f.startsWith(`${number}-`) && f.endsWith('.json'));
  if (!file) throw new Error(`no salt-api sample ${number} in ${SAMPLES_DIR}`);
  const raw = JSON.parse(readFileSync(SAMPLES_DIR + file, 'utf8')) as Sample;
  return { ...raw, file, response: { ...raw.response, body: untruncate(raw.response.body) } };
}

/** The first `return` element of a sample's response body (the per-minion map of a `local` call). */
export function sampleReturn(number: string): Record<string, unknown> {
  const body = loadSample(number).response.body as { return: Array<Record<string, unknown>> };
  return body.return[0]!;
}

/** The job-cache `Result` map of a `GET /jobs/<jid>` sample. */
export function sampleJobResult(number: string): Record<string, unknown> {
  const body = loadSample(number).response.body as { info: Array<{ Result: Record<string, unknown> }> };
  return body.info[0]!.Result;
}

/** A minimal API Gateway HTTP API (v2) event. */
export function httpEvent(rawPath: string, body: string | undefined, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined && { body }),
    isBase64Encoded: false,
    requestContext: { requestId: 'req-unit-1' },
  } as unknown as APIGatewayProxyEventV2;
}

/** A minimal Lambda context. */
export function lambdaContext(remainingMs = 30_000): Context {
  return {
    awsRequestId: 'aws-req-1',
    functionName: 'unit',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}
