import type { IncomingMessage } from 'node:http';

/** A Function URL takes 6 MB; the servers take a little more so that a caller hits the same limit in both. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The request body as UTF-8, or undefined once it passes `limit` bytes (the rest is not read: the caller
 * answers 413 and closes the connection). A declared Content-Length past the limit is refused before reading.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
