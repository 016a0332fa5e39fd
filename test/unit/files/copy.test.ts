import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';
import type { ArtifactStore } from '../../../lib/artifacts/artifact-store.js';
import type { ObjectRef } from '../../../lib/artifacts/parse-endpoint.js';
import { ArtifactNotFoundError, InputError } from '../../../lib/errors.js';
import { copySteps, md5Detail } from '../../../lib/files/copy-states.js';
import { prepareCopy } from '../../../lib/files/host-file-copy.js';
import { findArgs } from '../../../lib/files/host-file-find.js';
import { readPackage } from '../../../lib/artifacts/normalise-package.js';
import { WRITE_GUARD_COMMAND } from '../../../lib/salt/write-guard.js';

/** An ArtifactStore over a Map: only get is used by readPackage without normaliseTo. */
class MemoryStore implements ArtifactStore {
  constructor(private readonly objects: Map<string, Buffer>) {}
  async get(ref: ObjectRef) {
    const data = this.objects.get(`${ref.bucket}/${ref.key}`);
    if (!data) throw new ArtifactNotFoundError(`S3 file ${ref.url} is not found.`);
    return { body: Readable.from([data.subarray(0, 100), data.subarray(100)]), size: data.length };
  }
  async head(): Promise<{ size: number }> {
    throw new Error('unused');
  }
  async put(): Promise<void> {}
  async copy(): Promise<void> {}
  async remove(): Promise<void> {}
  async list(): Promise<{ keys: string[]; more: boolean }> {
    throw new Error('unused');
  }
  async presignGet(ref: ObjectRef) {
    return `http://s3/${ref.bucket}/${ref.key}?X-Amz-Signature=abc`;
  }
}

async function tarOf(entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; body?: string }>, gzip: boolean) {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname && { linkname: e.linkname }) }, e.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  return gzip ? gzipSync(raw) : raw;
}

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const ref = (key: string): ObjectRef => ({ bucket: 'b', key, url: `http://s3/b/${key}` });
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('readPackage', () => {
  it('hashes a plain object (md5 for WeCube, sha256 for the minion) without listing it', async () => {
    const data = Buffer.from('x'.repeat(5000));
    const facts = await readPackage(new MemoryStore(new Map([['b/f.bin', data]])), ref('f.bin'), { archive: 'f.bin' });
    expect(facts).toEqual({ size: 5000, md5: md5(data), sha256: sha256(data) });
  });

  it.each([
    ['tgz', true],
    ['tar', false],
  ] as const)('lists the top-level names of a %s and hashes all of its bytes', async (format, gzip) => {
    const data = await tarOf(
      [{ name: 'app/', type: 'directory' }, { name: 'app/bin/run.sh', body: 'echo' }, { name: './top.txt', body: 't' }, { name: 'z/deep/f' }],
      gzip,
    );
    const facts = await readPackage(new MemoryStore(new Map([['b/p', data]])), ref('p'), { format, archive: 'p' });
    expect(facts).toMatchObject({ size: data.length, md5: md5(data), sha256: sha256(data), topLevel: ['app', 'top.txt', 'z'], entries: 4 });
  });

  it('lists a zip (through a private temp file)', async () => {
    const data = await zipOf({ 'a/b.txt': 'b', 'c.txt': 'c' });
    const facts = await readPackage(new MemoryStore(new Map([['b/p.zip', data]])), ref('p.zip'), { format: 'zip', archive: 'p.zip' });
    expect(facts).toMatchObject({ md5: md5(data), topLevel: ['a', 'c.txt'], entries: 2 });
  });

  it.each([
    ['a parent reference', [{ name: '../../etc/cron.d/evil', body: 'x' }], 'escapes the package root'],
    ['an absolute name', [{ name: '/etc/passwd', body: 'x' }], 'has an absolute path'],
    ['a link out of the root', [{ name: 'app/link', type: 'symlink' as const, linkname: '/etc' }], 'symbolic link pointing outside'],
    [
      'a write through a link',
      [
        { name: 'l', type: 'symlink' as const, linkname: 'sub' },
        { name: 'l/x', body: 'x' },
      ],
      'goes through the symbolic link l',
    ],
  ])('refuses a tar with %s (zip-slip) with an InputError', async (_what, entries, message) => {
    const data = await tarOf([{ name: 'ok.txt', body: 'fine' }, ...entries], true);
    const error = await readPackage(new MemoryStore(new Map([['b/evil.tgz', data]])), ref('evil.tgz'), { format: 'tgz', archive: 'evil.tgz' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('Failed to unpack file evil.tgz: entry');
    expect((error as Error).message).toContain(message);
  });

  it('refuses a zip whose entry climbs out', async () => {
    // yazl refuses to write `../`: rename the entry in the bytes (local header and central directory).
    const clean = await zipOf({ 'ok.txt': 'x', 'xx/evil.txt': 'y' });
    const data = Buffer.from(clean.toString('latin1').split('xx/evil.txt').join('../evil.txt'), 'latin1');
    const error = await readPackage(new MemoryStore(new Map([['b/e.zip', data]])), ref('e.zip'), { format: 'zip', archive: 'e.zip' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('escapes the package root');
  });

  it('reports a corrupt archive as a failure to unpack', async () => {
    const data = Buffer.from('this is not gzip at all');
    const error = await readPackage(new MemoryStore(new Map([['b/c.tgz', data]])), ref('c.tgz'), { format: 'tgz', archive: 'c.tgz' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^Failed to unpack file c\.tgz/);
  });

  it('passes ArtifactNotFoundError through for a missing object', async () => {
    await expect(readPackage(new MemoryStore(new Map()), ref('gone'), { archive: 'gone' })).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });
});

describe('prepareCopy', () => {
  const item = (over: Record<string, unknown>) =>
    ({
      guid: 'g',
      callbackParameter: undefined,
      endpoint: 'http://s3:9000/bkt/dir/pkg.tar.gz',
      target: 'h',
      destinationPath: '/data/app/',
      unpack: false,
      fileOwner: undefined,
      ...over,
    }) as Parameters<typeof prepareCopy>[0];

  it.each([
    [{}, '/data/app/pkg.tar.gz', undefined],
    [{ destinationPath: '/data/app//x.tgz' }, '/data/app/x.tgz', undefined],
    [{ unpack: true }, '/data/app/pkg.tar.gz', 'tgz'],
    [{ unpack: true, destinationPath: '/d/a.TAR' }, '/d/a.TAR', 'tar'],
    [{ unpack: true, endpoint: 's3://bkt/p.zip' }, '/data/app/p.zip', 'zip'],
  ])('with %j copies to %j (unpack %j)', (over, destination, format) => {
    const prepared = prepareCopy(item(over));
    expect(prepared.destination).toBe(destination);
    expect(prepared.format).toBe(format);
    expect(prepared.ref.bucket).toBe('bkt');
  });

  it.each([
    [{ unpack: true, destinationPath: '/data/app/pkg.rar' }, 'File /data/app/pkg.rar is illegal to be recognized as a compressed file type'],
    [{ endpoint: 'ftp://x/y/z' }, 'S3 url ftp://x/y/z is illegal.'],
    [{ endpoint: 'http://s3/bkt/x%2F..', destinationPath: '/data/' }, 'Parameter destinationPath validation failed: must not contain ..'],
  ])('refuses %j: %s', (over, message) => {
    expect(() => prepareCopy(item(over))).toThrow(message);
  });
});

describe('copySteps', () => {
  const base = { destination: '/data/app/pkg.tgz', source: 'http://s3/b/pkg.tgz?X-Amz-Signature=s', sha256: 'ab'.repeat(32) };

  it('copies with file.managed behind the write guard, the sha256 verified, links not followed, salt cache not kept, owned as asked', () => {
    expect(copySteps({ ...base, owner: { user: 'app', group: undefined } })).toEqual([
      { id: 'write guard', state: 'cmd.run', args: { name: WRITE_GUARD_COMMAND, stdin: '/data/app/pkg.tgz\n', timeout: 60 } },
      {
        id: 'copy',
        state: 'file.managed',
        require: ['write guard'],
        args: {
          name: '/data/app/pkg.tgz',
          source: base.source,
          source_hash: `sha256=${base.sha256}`,
          makedirs: true,
          keep_source: false,
          show_changes: false,
          follow_symlinks: false,
          user: 'app',
          group: undefined,
        },
      },
    ]);
  });

  it('unpacks the normalised archive into a staging directory, merges with hard links (argv), and always cleans up', () => {
    const unpack = {
      source: 'http://s3/b/.saltstack-unpack/n.tar.gz?X-Amz-Signature=t',
      sha256: 'cd'.repeat(32),
      topLevel: ['app', '-rf x'],
      stagingName: '.s1',
    };
    const steps = copySteps({ ...base, owner: { user: 'app', group: 'apps' }, unpack });
    expect(steps.map((s) => [s.id, s.state, s.require, s.last])).toEqual([
      ['write guard', 'cmd.run', undefined, undefined],
      ['copy', 'file.managed', ['write guard'], undefined],
      ['unpack', 'archive.extracted', ['copy'], undefined],
      ['merge', 'module.run', ['unpack'], undefined],
      ['clean up', 'file.absent', undefined, true],
    ]);
    expect(steps[0]!.args['stdin']).toBe(['/data/app/pkg.tgz', '/data/app/.s1', '/data/app/app', '/data/app/-rf x', ''].join('\n'));
    expect(steps[2]!.args).toMatchObject({
      name: '/data/app/.s1',
      source: unpack.source,
      source_hash: `sha256=${unpack.sha256}`,
      archive_format: 'tar',
      enforce_toplevel: false,
      keep_source: false,
      user: 'app',
      group: 'apps',
      enforce_ownership_on: '/data/app/.s1',
    });
    expect(steps[3]!.args).toEqual({
      'cmd.run_all': [
        { cmd: ['cp', '-a', '-l', '--remove-destination', '-t', '/data/app', '/data/app/.s1/app', '/data/app/.s1/-rf x'] },
        { python_shell: false },
      ],
    });
    expect(steps[4]!.args).toEqual({ name: '/data/app/.s1' });
  });

  it('unpacks a zip package from its normalised tar, and an empty archive without a merge step', () => {
    const steps = copySteps({
      ...base,
      destination: '/p.zip',
      unpack: { source: 'http://s3/n.tar.gz', sha256: 'ef'.repeat(32), topLevel: [], stagingName: '.s' },
    });
    expect(steps.map((s) => s.id)).toEqual(['write guard', 'copy', 'unpack', 'clean up']);
    expect(steps[2]!.args).toMatchObject({ name: '/.s', archive_format: 'tar', source: 'http://s3/n.tar.gz' });
    expect(steps[2]!.args).not.toHaveProperty('enforce_ownership_on');
  });

  it('gives the detail in the raw shape of upstream (file.get_hash through salt-api)', () => {
    expect(md5Detail('127.0.0.1', 'bae0cbb98dd0f6d346ada2157922f799')).toBe('{"return": [{"127.0.0.1": "bae0cbb98dd0f6d346ada2157922f799"}]}');
  });
});

describe('findArgs', () => {
  it.each([
    ['/data/app', '*.log', { path: '/data/app', name: '*.log' }],
    ['/data/app/', 'logs/app-*.log', { path: '/data/app/logs', name: 'app-*.log' }],
    ['/data', 'a b;$(x)', { path: '/data', name: 'a b;$(x)' }],
  ])('searches %j + %j as %j', (path, pattern, expected) => {
    expect(findArgs(path, pattern)).toEqual(expected);
  });

  it.each([
    ['data', '*.log', 'must be an absolute path'],
    ['/data', '../etc/*', 'must not contain ..'],
    ['/', '/', 'names no file'],
  ])('refuses %j + %j', (path, pattern, message) => {
    expect(() => findArgs(path, pattern)).toThrow(message);
  });
});
