import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { SaltReplyTooLargeError } from '../../../lib/errors.js';
import { SaltClient } from '../../../lib/salt/salt-client.js';

const MiB = 1024 * 1024;
const CAP = 1 * MiB;

/** A salt-api on 127.0.0.1 that logs in and answers POST / with `reply`; it records how many bytes it got out. */
async function saltApi(reply: (res: import('node:http').ServerResponse) => void) {
  const state = { written: 0, closedEarly: false };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/login') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ return: [{ token: 'tok-1', expire: Date.now() / 1000 + 3600 }] }));
        return;
      }
      res.on('close', () => (state.closedEarly = !res.writableFinished));
      reply(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SaltClient({ url, eauth: 'pam', username: 'u', password: 'p', timeoutMs: 20_000, loginTimeoutMs: 5000, replyMaxBytes: CAP });
  return { client, state };
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => (s.closeAllConnections(), s.close(resolve)))));
});

/** `{"return":[{"minion-a":"xxxx..."}]}` of about `bytes`. */
const bigReturn = (bytes: number) => JSON.stringify({ return: [{ 'minion-a': 'x'.repeat(bytes) }] });

describe('SaltClient reply cap (SALT_REPLY_MAX_BYTES)', () => {
  it('refuses a reply whose declared length is past the cap, naming the call and the cap', async () => {
    const body = bigReturn(3 * MiB);
    const { client } = await saltApi((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const error = await client.local({ fun: 'file.find', arg: ['/'], tgt: ['minion-a'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SaltReplyTooLargeError);
    expect((error as Error).message).toContain('(local file.find on 1 host)');
    expect((error as Error).message).toContain(`larger than SALT_REPLY_MAX_BYTES (${CAP} bytes`);
  });

  it('stops reading an endless chunked reply just past the cap, instead of buffering it', async () => {
    let sent = 0;
    const { client, state } = await saltApi((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      res.write('{"return":[{"minion-a":"');
      const pump = () => {
        // Endless: only the client going away stops it.
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const error = await client.lowstate([{ client: 'local', fun: 'cmd.run', tgt: ['minion-a'], arg: ['cat /dev/zero'] }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SaltReplyTooLargeError);
    expect((error as Error).message).toContain('POST / (local cmd.run on 1 host)');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state.closedEarly).toBe(true);
    // What went out before the client hung up is the cap plus socket buffers, not an ever-growing body.
    expect(sent).toBeLessThan(CAP * 16);
  });

  it('reads a reply under the cap as before', async () => {
    const body = bigReturn(CAP / 2);
    const { client } = await saltApi((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const [ret] = await client.lowstate([{ client: 'local', fun: 'test.echo', tgt: ['minion-a'] }]);
    expect((ret as Record<string, string>)['minion-a']).toHaveLength(CAP / 2);
  });
});
