import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createS3Client, S3Store } from '../../lib/artifacts/s3-store.js';
import { projectRoot } from '../support/stack.js';

type S3Event = { Records: Array<{ eventName: string; userIdentity: { principalId: string }; s3: { object: { key: string } } }> };

// A private instance of the stack's S3 launcher (not the shared one): its events name the uploader.
describe('the stack S3 server (scripts/stack/s3-server.cjs) names the uploader in its events', () => {
  const dir = mkdtempSync(join(tmpdir(), 's3-events-'));
  const events: S3Event[] = [];
  let receiver: Server;
  let s3: ChildProcess;
  let endpoint = '';
  let output = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        events.push(JSON.parse(body) as S3Event);
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    writeFileSync(join(dir, 'test.url'), `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/\n`);
    s3 = spawn(
      process.execPath,
      [
        join(projectRoot, 'scripts/stack/s3-server.cjs'),
        '--directory',
        join(dir, 'data'),
        '--port',
        '0',
        '--hooks',
        dir,
        '--bucket',
        'events-test',
        '--silent',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    s3.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    s3.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3-server not listening in 20 s:\n${output}`)), 20_000);
      s3.stdout!.on('data', () => {
        const m = /listening on ([\d.]+):(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(`http://${m[1]}:${m[2]}`);
        }
      });
    });
  });
  afterAll(async () => {
    s3?.kill('SIGTERM');
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const eventFor = async (key: string): Promise<S3Event['Records'][number]> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const record = events.flatMap((e) => e.Records).find((r) => r.s3.object.key === key);
      if (record) return record;
      if (Date.now() > deadline) throw new Error(`no event for ${key}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('AWS:<access key id> for a signed upload, the same for every upload', async () => {
    const store = new S3Store(
      createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }),
    );
    for (const key of ['a/one.release.json', 'a/two.release.json'])
      await store.put({ bucket: 'events-test', key, url: key }, Readable.from([Buffer.from('{}')]));
    expect((await eventFor('a/one.release.json')).userIdentity).toEqual({ principalId: 'AWS:S3RVER' });
    expect((await eventFor('a/two.release.json')).userIdentity).toEqual({ principalId: 'AWS:S3RVER' });
  });

  it('anonymous for an unsigned upload', async () => {
    const response = await fetch(`${endpoint}/events-test/a/anon.release.json`, { method: 'PUT', body: '{}' });
    expect(response.status).toBe(200);
    const record = await eventFor('a/anon.release.json');
    expect(record.eventName).toBe('ObjectCreated:Put');
    expect(record.userIdentity).toEqual({ principalId: 'anonymous' });
  });
});
