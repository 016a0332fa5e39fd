/**
 * Real local receivers of release events (node http servers on 127.0.0.1): a webhook receiver that checks
 * each signature with the secret, and a stand-in for EventBridge speaking its JSON 1.1 protocol
 * (`X-Amz-Target: AWSEvents.PutEvents`), the one part of AWS the tests replace.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  /** The parsed body (the event; for EventBridge, the request). */
  json: any;
  /** Webhook only: the signature matched HMAC-SHA256(secret, timestamp + "." + body). */
  signatureValid?: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The status the next requests are answered with (default 200). */
  answer: (status: number) => void;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => handler(req, res, body),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** What a receiver does with X-Saltstack-Signature: recompute it and compare in constant time. */
export function verifySignature(secret: string, headers: IncomingMessage['headers'], body: string): boolean {
  const timestamp = String(headers['x-saltstack-timestamp'] ?? '');
  const given = Buffer.from(String(headers['x-saltstack-signature'] ?? ''));
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A webhook receiver: records every POST with its signature checked against `secret`. */
export async function webhookReceiver(secret: string): Promise<Receiver> {
  const received: Received[] = [];
  let status = 200;
  const { server, url } = await listen((req, res, body) => {
    received.push({ headers: req.headers, body, json: safeJson(body), signatureValid: verifySignature(secret, req.headers, body) });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
  });
  return { url: `${url}/hooks/releases`, received, answer: (s) => (status = s), close: () => closeServer(server) };
}

/** A stand-in for EventBridge: PutEvents (JSON 1.1) answered as AWS does; anything else is refused. */
export async function fakeEventBridge(): Promise<Receiver> {
  const received: Received[] = [];
  let status = 200;
  let n = 0;
  const { server, url } = await listen((req, res, body) => {
    const json = safeJson(body);
    received.push({ headers: req.headers, body, json });
    const reply = (code: number, payload: unknown) => res.writeHead(code, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
    if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') return reply(400, { __type: 'UnknownOperationException' });
    if (status >= 500) return reply(status, { __type: 'InternalException', message: 'stand-in told to fail' });
    const entries = (json?.Entries ?? []) as unknown[];
    reply(200, { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: `fake-${++n}` })) });
  });
  return { url, received, answer: (s) => (status = s), close: () => closeServer(server) };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
