/** Helpers of the host integration tests (files, users, disks): the minions run as root on this machine. */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createS3Client, S3Store } from '../../lib/artifacts/s3-store.js';
import type { Operation } from '../../lib/wecube/operation.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import type { Runtime } from '../../lib/runtime.js';
import { stackConfig } from './stack.js';

/** A lower-case name no other run uses, valid as a Linux account name: `<prefix><pid36><hex>`. */
export const uniqueName = (prefix: string) => `${prefix}${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;

/** Runs a command (argv, no shell) and returns its stdout. */
export const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', ...(input !== undefined && { input }) });

/** Runs a command and returns its exit code instead of throwing. */
export function exitCode(cmd: string, args: string[]): number {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return 0;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}

export const md5Of = (path: string) => createHash('md5').update(readFileSync(path)).digest('hex');
export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** `user:group` owning a path (names, as ls shows them). */
export const ownerOf = (path: string): string => run('stat', ['-c', '%U:%G', path]).trim();

export const modeOf = (path: string): string => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

/** The stack's S3 store, and a path-style URL for an object. */
export function s3() {
  const config = stackConfig();
  const store = new S3Store(createS3Client(config.s3));
  return {
    store,
    url: (bucket: string, key: string) => `${config.s3.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
    put: async (bucket: string, key: string, body: Buffer | string) => {
      await store.put({ bucket, key, url: key }, Readable.from([Buffer.from(body)]));
      return `${config.s3.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    },
    remove: (bucket: string, key: string) => store.remove({ bucket, key, url: key }).catch(() => undefined),
    /** Keys under a prefix (to check that staged objects were removed). */
    list: async (bucket: string, prefix: string): Promise<string[]> => {
      const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const client = new S3Client({ region: config.s3.region, endpoint: config.s3.endpoint!, forcePathStyle: true, credentials: config.s3.credentials! });
      try {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        return (listed.Contents ?? []).map((o) => o.Key!);
      } finally {
        client.destroy();
      }
    },
    /** Creates a bucket other than the stack's `artifacts` (the old guide's examples name their own). */
    createBucket: async (bucket: string) => {
      const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
      const client = new S3Client({ region: config.s3.region, endpoint: config.s3.endpoint!, forcePathStyle: true, credentials: config.s3.credentials! });
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (error) {
        if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou' && (error as { name?: string }).name !== 'BucketAlreadyExists') throw error;
      } finally {
        client.destroy();
      }
    },
  };
}

/** Runs an operation's items the way the HTTP handler does (validation, batch, outputs in order). */
export function runItems(rt: Runtime, op: Operation, inputs: unknown[]) {
  return runOperation(op, inputs, { logger: rt.logger, signal: AbortSignal.timeout(240_000), concurrency: 5 });
}
