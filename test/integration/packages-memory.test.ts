import { afterAll, describe, expect, it } from '@jest/globals';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { parseEndpoint } from '../../lib/artifacts/parse-endpoint.js';
import { hugeFiles, packTgz } from '../../scripts/lib/package-fixtures.js';
import { projectRoot, stackEnv, stackRuntime } from '../support/stack.js';

const env = stackEnv();
const BUCKET = env['S3_BUCKET'] || 'artifacts';
const RUN = `mem-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
const GIB = 1024 ** 3;
const RSS_LIMIT_MB = 256;
const s3 = new S3Client({
  endpoint: env['S3_ENDPOINT'],
  region: env['S3_REGION'] || 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: env['S3_ACCESS_KEY']!, secretAccessKey: env['S3_SECRET_KEY']! },
});

afterAll(async () => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const mine = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(RUN));
  if (mine.length) await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: mine.map((Key) => ({ Key })) } }));
  s3.destroy();
});

describe('a 1 GiB package', () => {
  it('is re-packed from and to the S3 server with a peak RSS under 256 MB', async () => {
    const store = stackRuntime().store();
    const source = parseEndpoint(`${env['S3_ENDPOINT']}/${BUCKET}/${RUN}/huge-${RUN}.tgz`);
    const body = new PassThrough();
    await Promise.all([store.put(source, body), packTgz(hugeFiles(GIB), body)]);

    const request = { endpoint: source.url, confFiles: 'big/conf/app.properties', variableList: 'port=8080, db_host=db.internal' };
    const { stdout } = await promisify(execFile)(join(projectRoot, 'node_modules', '.bin', 'tsx'), ['scripts/lib/replace-once.ts', JSON.stringify(request)], {
      cwd: projectRoot,
      timeout: 240_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { s3PkgPath: string; maxRssMb: number; ms: number };
    // in the source package's folder (upstream)
    expect(result.s3PkgPath).toMatch(new RegExp(`/${BUCKET}/${RUN}/[0-9a-f]{32}_huge-${RUN}_\\d{14}_[0-9a-z]{4}\\.tgz$`));
    expect(result.maxRssMb).toBeGreaterThan(0);
    expect(result.maxRssMb).toBeLessThan(RSS_LIMIT_MB);

    // The output really is the whole 1 GiB package with the conf file substituted: list it with GNU tar.
    const { body: output } = await store.get(parseEndpoint(result.s3PkgPath));
    const tar = spawn('tar', ['-tvzf', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let listing = '';
    tar.stdout.on('data', (d: Buffer) => (listing += d.toString()));
    output.pipe(tar.stdin);
    await new Promise((resolve, reject) => tar.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`tar exited ${code}`)))));
    const sizes = Object.fromEntries(
      listing
        .trim()
        .split('\n')
        .map((line) => [line.split(/\s+/).pop()!, Number(line.split(/\s+/)[2])]),
    );
    expect(sizes['big/data/blocks.bin']! + sizes['big/data/zeros.bin']!).toBe(GIB);
    expect(sizes['big/conf/app.properties']).toBe(64 - '[@port]'.length + '8080'.length - '[@db_host]'.length + 'db.internal'.length);
    await store.remove(parseEndpoint(result.s3PkgPath));
  }, 300_000);
});
