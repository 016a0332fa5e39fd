import { describe, expect, it } from '@jest/globals';
import { parseEndpoint } from '../../../lib/artifacts/parse-endpoint.js';
import { ScriptSources } from '../../../lib/scripts/script-sources.js';
import { MemoryStore } from '../artifacts/memory-store.js';
import { captureLogger } from '../helpers.js';

const make = (store: MemoryStore, bucket: string | undefined = 'artifacts') => makeIn(store, bucket);
const makeIn = (store: MemoryStore, bucket: string | undefined) =>
  new ScriptSources({ store, bucket, tempPrefix: 'tmp/host-script/', presignExpiresS: 900, logger: captureLogger().logger });

describe('ScriptSources', () => {
  it('checks an S3 script exists once and presigns one URL per variant', async () => {
    const store = new MemoryStore();
    store.set('b', 'run.sh', Buffer.from('#!/bin/sh\n'));
    const sources = make(store);
    const source = { kind: 's3' as const, ref: parseEndpoint('http://s3:9000/b/run.sh') };
    const [a, b, c] = await Promise.all([sources.url(source, 0), sources.url(source, 0), sources.url(source, 1)]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect([a, c]).toEqual(['http://s3:9000/b/run.sh?expires=900', 'http://s3:9000/b/run.sh?expires=901']);
  });

  it('fails with the S3 not-found text for a missing object', async () => {
    const sources = make(new MemoryStore());
    await expect(sources.url({ kind: 's3', ref: parseEndpoint('http://s3:9000/b/none.sh') }, 0)).rejects.toMatchObject({
      name: 'ArtifactNotFoundError',
      message: 'S3 file http://s3:9000/b/none.sh is not found.',
    });
  });

  it('stages inline content once per distinct content under the temp prefix and removes it on cleanup', async () => {
    const store = new MemoryStore();
    const sources = make(store);
    await sources.url({ kind: 'inline', content: 'echo a' }, 0);
    await sources.url({ kind: 'inline', content: 'echo a' }, 1);
    await sources.url({ kind: 'inline', content: 'echo b' }, 2);
    const staged = [...store.objects.keys()];
    expect(staged).toHaveLength(2);
    expect(staged.every((k) => k.startsWith('artifacts/tmp/host-script/'))).toBe(true);
    expect(staged.map((k) => store.objects.get(k)!.toString()).sort()).toEqual(['echo a', 'echo b']);
    await sources.cleanup();
    expect(store.objects.size).toBe(0);
  });

  it('needs a bucket for inline content', async () => {
    await expect(makeIn(new MemoryStore(), undefined).url({ kind: 'inline', content: 'x' }, 0)).rejects.toMatchObject({ name: 'ConfigError' });
  });
});
