import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { writeDockerArchive } from '../../../scripts/lib/docker-archive.js';
import { writeLayer } from '../../../scripts/lib/tar-layer.js';

type Entry = { header: tar.Header; body: Buffer };

/** Every entry of a tar (file or Buffer), in order, bodies in memory (the test archives are small). */
async function readTar(source: string | Buffer): Promise<Entry[]> {
  const extract = tar.extract();
  const entries: Entry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  if (typeof source === 'string') createReadStream(source).pipe(extract);
  else extract.end(source);
  await done;
  return entries;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const MTIME = new Date('2000-01-01T00:00:00Z');

describe('writeDockerArchive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docker-archive-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function build(tag = 'wecube-plugins-saltstack:0.1.0') {
    const source = join(dir, 'source.bin');
    writeFileSync(source, Buffer.from('#!/bin/sh\necho hi\n'));
    const base = join(dir, 'base.tar');
    const app = join(dir, 'app.tar');
    await writeLayer(
      base,
      [
        { type: 'directory', path: '/etc' },
        { type: 'file', path: '/etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      ],
      MTIME,
    );
    await writeLayer(
      app,
      [
        { type: 'directory', path: '/app', uid: 10001, gid: 10001 },
        { type: 'file', path: '/app/run', from: source, mode: 0o755 },
      ],
      MTIME,
    );
    const outFile = join(dir, `image-${Math.random()}.tar`);
    const result = await writeDockerArchive({
      outFile,
      tag,
      architecture: 'amd64',
      created: MTIME,
      config: { User: '10001:10001', Entrypoint: ['/app/run'], ExposedPorts: { '8082/tcp': {} } },
      layers: [
        { file: base, createdBy: 'base' },
        { file: app, createdBy: 'app' },
      ],
    });
    const entries = await readTar(outFile);
    const byName = new Map(entries.map((e) => [e.header.name, e.body]));
    return { result, entries, byName, layerFiles: [base, app] };
  }

  it('writes manifest.json naming the config blob and the layer blobs, tagged', async () => {
    const { byName, result } = await build();
    const manifest = JSON.parse(byName.get('manifest.json')!.toString());
    expect(manifest).toHaveLength(1);
    expect(manifest[0].RepoTags).toEqual(['wecube-plugins-saltstack:0.1.0']);
    expect(manifest[0].Config).toBe(`blobs/sha256/${result.configDigest.slice(7)}`);
    expect(manifest[0].Layers).toEqual(result.layerDigests.map((d) => `blobs/sha256/${d.slice(7)}`));
    for (const name of [manifest[0].Config, ...manifest[0].Layers]) expect(byName.has(name)).toBe(true);
  });

  it("names every blob by the sha256 of its bytes, and the config's diff_ids are the layer tars' sha256", async () => {
    const { byName, entries, layerFiles } = await build();
    const blobs = entries.filter((e) => e.header.name.startsWith('blobs/sha256/') && e.header.type === 'file');
    expect(blobs.length).toBe(4); // two layers, the config, the OCI manifest
    for (const blob of blobs) expect(sha256(blob.body)).toBe(blob.header.name.slice('blobs/sha256/'.length));
    const manifest = JSON.parse(byName.get('manifest.json')!.toString());
    const config = JSON.parse(byName.get(manifest[0].Config)!.toString());
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: layerFiles.map((f) => `sha256:${sha256(readFileSync(f))}`) });
    expect(manifest[0].Layers.map((name: string) => `sha256:${sha256(byName.get(name)!)}`)).toEqual(config.rootfs.diff_ids);
    expect(config).toMatchObject({
      architecture: 'amd64',
      os: 'linux',
      created: MTIME.toISOString(),
      config: { User: '10001:10001', Entrypoint: ['/app/run'], ExposedPorts: { '8082/tcp': {} } },
      history: [{ created_by: 'base' }, { created_by: 'app' }],
    });
  });

  it('is an OCI image layout too: oci-layout, index.json -> manifest -> config and layers', async () => {
    const { byName, result } = await build();
    expect(JSON.parse(byName.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(byName.get('index.json')!.toString());
    expect(index.manifests).toHaveLength(1);
    const ref = index.manifests[0];
    expect(ref).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: result.manifestDigest,
      annotations: { 'io.containerd.image.name': 'wecube-plugins-saltstack:0.1.0', 'org.opencontainers.image.ref.name': '0.1.0' },
    });
    const manifestBlob = byName.get(`blobs/sha256/${ref.digest.slice(7)}`)!;
    expect(ref.size).toBe(manifestBlob.length);
    const manifest = JSON.parse(manifestBlob.toString());
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: result.configDigest,
      size: byName.get(`blobs/sha256/${result.configDigest.slice(7)}`)!.length,
    });
    expect(manifest.layers.map((l: { digest: string; size: number; mediaType: string }) => [l.mediaType, l.digest, l.size])).toEqual(
      result.layerDigests.map((d) => ['application/vnd.oci.image.layer.v1.tar', d, byName.get(`blobs/sha256/${d.slice(7)}`)!.length]),
    );
  });

  it('writes layers with the given owners, modes and one fixed mtime (same inputs, same digests)', async () => {
    const first = await build();
    const second = await build();
    expect(second.result.layerDigests).toEqual(first.result.layerDigests);
    const app = await readTar(first.byName.get(`blobs/sha256/${first.result.layerDigests[1]!.slice(7)}`)!);
    expect(app.map((e) => [e.header.name, e.header.type, e.header.uid, e.header.mode, e.header.mtime?.toISOString()])).toEqual([
      ['app/', 'directory', 10001, 0o755, MTIME.toISOString()],
      ['app/run', 'file', 0, 0o755, MTIME.toISOString()],
    ]);
    expect(app[1]!.body.toString()).toBe('#!/bin/sh\necho hi\n');
  });

  it.each([['Upper:1'], ['no-tag'], ['a b:1'], ['name:']])('refuses the tag %j', async (tag) => {
    await expect(build(tag)).rejects.toThrow(/is not name:tag/);
  });
});

describe('writeLayer', () => {
  it('refuses a relative or climbing path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-'));
    try {
      await expect(writeLayer(join(dir, 'l.tar'), [{ type: 'file', path: 'etc/x', content: '' }], MTIME)).rejects.toThrow(/not absolute/);
      await expect(writeLayer(join(dir, 'l.tar'), [{ type: 'file', path: '/app/../etc/x', content: '' }], MTIME)).rejects.toThrow(/not absolute/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
