import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { createRuntime } from '../../../lib/runtime.js';
import { operationsFor } from '../../../scripts/lib/load-operations.js';
import { type BuildImage, buildWecubePackage } from '../../../scripts/wecube-package.js';

const ops = await operationsFor(createRuntime(loadConfig({ AUTH_MODE: 'off' })));
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A small real tar standing in for the docker-archive; records what it was asked for. */
async function stubImage(): Promise<{ build: BuildImage; calls: Array<{ outFile: string; workDir: string; tag: string }>; bytes: () => Buffer }> {
  const pack = tar.pack();
  pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'config.json', RepoTags: ['stub:tag'], Layers: [] }]));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const content = Buffer.concat(chunks);
  const calls: Array<{ outFile: string; workDir: string; tag: string }> = [];
  return {
    calls,
    bytes: () => content,
    build: async (opts) => {
      calls.push(opts);
      await writeFile(opts.outFile, content);
    },
  };
}

/** Every entry of a zip: name -> content. */
async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(file, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))));
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, async (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        entries.set(entry.fileName, Buffer.concat(chunks));
        zip.readEntry();
      });
    });
    zip.readEntry();
  });
  return entries;
}

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wecube-package-'));
  dirs.push(dir);
  return dir;
}

describe('the WeCube plugin zip', () => {
  it('holds exactly register.xml and the image, whose tag register.xml names, on port {{ALLOCATE_PORT}}:8082', async () => {
    const dir = await scratch();
    const image = await stubImage();
    const result = await buildWecubePackage({
      name: 'saltstack-plugin-serverless',
      version: 'v1.2.3',
      operations: ops,
      outDir: join(dir, 'out'),
      workDir: join(dir, 'work'),
      buildImage: image.build,
    });

    expect(result.zipFile).toBe(join(dir, 'out', 'saltstack-plugin-serverless-v1.2.3.zip'));
    expect(image.calls).toEqual([{ outFile: join(dir, 'work', 'image.tar'), workDir: join(dir, 'work'), tag: 'saltstack-plugin-serverless:v1.2.3' }]);

    const entries = await unzip(result.zipFile);
    expect([...entries.keys()].sort()).toEqual(['image.tar', 'register.xml']);
    expect(entries.get('image.tar')!.equals(image.bytes())).toBe(true);

    const pkg = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(entries.get('register.xml')!.toString('utf8')).package;
    expect(pkg.version).toBe('v1.2.3');
    expect(pkg.resourceDependencies.docker.imageName).toBe(image.calls[0]!.tag);
    expect(pkg.resourceDependencies.docker.containerName).toBe('saltstack-plugin-serverless-v1.2.3');
    expect(pkg.resourceDependencies.docker.portBindings).toBe('{{ALLOCATE_PORT}}:8082');
  });

  it('leaves only the zip: no partial file, no scratch directory', async () => {
    const dir = await scratch();
    const image = await stubImage();
    await buildWecubePackage({ name: 'p', version: 'v1', operations: ops, outDir: join(dir, 'out'), workDir: join(dir, 'work'), buildImage: image.build });
    expect(await readdir(join(dir, 'out'))).toEqual(['p-v1.zip']);
    expect(existsSync(join(dir, 'work'))).toBe(false);
  });

  it('writes no zip when the image step fails', async () => {
    const dir = await scratch();
    const failing: BuildImage = async () => {
      throw new Error('no rootfs');
    };
    await expect(
      buildWecubePackage({ name: 'p', version: 'v1', operations: ops, outDir: join(dir, 'out'), workDir: join(dir, 'work'), buildImage: failing }),
    ).rejects.toThrow('no rootfs');
    expect(existsSync(join(dir, 'out', 'p-v1.zip'))).toBe(false);
  });

  it.each(['v1 2', '../v1', 'v1;rm', ''])('refuses version %j before building anything (it becomes a docker tag)', async (version) => {
    const dir = await scratch();
    const image = await stubImage();
    await expect(
      buildWecubePackage({ name: 'p', version, operations: ops, outDir: join(dir, 'out'), workDir: join(dir, 'work'), buildImage: image.build }),
    ).rejects.toThrow(ConfigError);
    expect(image.calls).toEqual([]);
  });

  it('replaces a zip of the same version', async () => {
    const dir = await scratch();
    const image = await stubImage();
    const opts = { name: 'p', version: 'v1', operations: ops, outDir: join(dir, 'out'), workDir: join(dir, 'work'), buildImage: image.build };
    const first = await buildWecubePackage(opts);
    await writeFile(first.zipFile, 'stale');
    await buildWecubePackage(opts);
    expect((await readFile(first.zipFile)).subarray(0, 2).toString('latin1')).toBe('PK');
  });
});
