import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';
import { hostFileCopy } from '../../lib/files/host-file-copy-operation.js';
import { hostFileCreate } from '../../lib/files/host-file-create.js';
import { hostFileDelete } from '../../lib/files/host-file-delete.js';
import { hostFileFind } from '../../lib/files/host-file-find-operation.js';
import { md5, md5Of, modeOf, ownerOf, runItems, s3, uniqueName } from '../support/hosts.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

async function tarGzOf(entries: Array<{ name: string; body?: string; mode?: number; type?: 'file' | 'directory' }>, gzip = true): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644) }, e.body ?? '', (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  pack.finalize();
  await done;
  return gzip ? gzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
}

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), name, { mode: 0o100640 });
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir` (relative path -> content), staging directories included if any were left. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else out[path] = readFileSync(join(dir, path), 'utf8');
    }
  };
  walk('');
  return out;
}

const rt = stackRuntime();
const copy = hostFileCopy(rt);
const create = hostFileCreate(rt);
const find = hostFileFind(rt);
const del = hostFileDelete(rt);
const UNKNOWN = '10.255.255.251';
const root = `/tmp/${uniqueName('hostfile-')}`;
const canary = `${root}-canary`;
const bucket = 'artifacts';
const keys: string[] = [];
const [m0, m1] = stackMinions() as [string, string];

const put = async (name: string, body: Buffer | string) => {
  const key = `host-file-test/${uniqueName('k')}/${name}`;
  keys.push(key);
  return s3().put(bucket, key, body);
};

beforeAll(() => {
  mkdirSync(root, { recursive: true });
});

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  rmSync(canary, { force: true });
  await Promise.all(keys.map((k) => s3().remove(bucket, k)));
});

describe('host-file/copy', () => {
  it('copies an object to both minions with its md5 as detail and its owner; an unknown host fails alone, in input order', async () => {
    const body = Buffer.from(`payload ${Date.now()}\n`.repeat(1000));
    const url = await put('payload.bin', body);
    const [a, b, ghost] = (await runItems(rt, copy, [
      { guid: 'a', endpoint: url, target: m0, destinationPath: `${root}/copy-a/`, fileOwner: 'nobody', callbackParameter: 'cb-a' },
      { guid: 'b', endpoint: url, target: m1, destinationPath: `${root}/copy-b/renamed.bin` },
      { guid: 'ghost', endpoint: url, target: UNKNOWN, destinationPath: `${root}/copy-ghost/` },
    ])) as Out[];
    expect(a).toMatchObject({ guid: 'a', callbackParameter: 'cb-a', errorCode: '0', detail: `{"return": [{"${m0}": "${md5(body)}"}]}` });
    expect(b).toMatchObject({ guid: 'b', errorCode: '0', detail: `{"return": [{"${m1}": "${md5(body)}"}]}` });
    expect(ghost).toMatchObject({ guid: 'ghost', errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(ghost!['errorMessage']).toBe(`Salt-master can not recognize ${UNKNOWN}, please check if salt-minion installed on this target.`);
    expect(md5Of(`${root}/copy-a/payload.bin`)).toBe(md5(body));
    expect(ownerOf(`${root}/copy-a/payload.bin`).split(':')[0]).toBe('nobody');
    expect(md5Of(`${root}/copy-b/renamed.bin`)).toBe(md5(body));
    expect(ownerOf(`${root}/copy-b/renamed.bin`)).toBe('root:root');
    expect(existsSync(`${root}/copy-ghost`)).toBe(false);
  });

  it('unpacks a tar.gz completely next to it, merging with what is there, owned by fileOwner, with no staging left', async () => {
    const dir = `${root}/unpack-tgz`;
    mkdirSync(`${dir}/app/logs`, { recursive: true });
    writeFileSync(`${dir}/app/logs/keep.log`, 'kept');
    writeFileSync(`${dir}/app/conf.properties`, 'old');
    const archive = await tarGzOf([
      { name: 'app/', type: 'directory' },
      { name: 'app/bin/start.sh', body: '#!/bin/sh\necho started\n', mode: 0o755 },
      { name: 'app/conf.properties', body: 'new=1\n' },
      { name: 'app/odd name;$(touch ' + canary + ')`id`.txt', body: 'literal\n' },
      { name: 'README', body: 'top level file\n' },
    ]);
    const url = await put('app-1.0.tgz', archive);
    const [out] = (await runItems(rt, copy, [
      { guid: 'u', endpoint: url, target: m0, destinationPath: `${dir}/`, unpack: 'true', fileOwner: 'nobody:nogroup' },
    ])) as Out[];
    expect(out).toMatchObject({ errorCode: '0', detail: `{"return": [{"${m0}": "${md5(archive)}"}]}` });
    expect(tree(dir)).toEqual({
      'app-1.0.tgz': archive.toString('utf8'),
      README: 'top level file\n',
      'app/bin/start.sh': '#!/bin/sh\necho started\n',
      'app/conf.properties': 'new=1\n',
      'app/logs/keep.log': 'kept',
      ['app/odd name;$(touch ' + canary + ')`id`.txt']: 'literal\n',
    });
    expect(modeOf(`${dir}/app/bin/start.sh`)).toBe('0755');
    for (const path of ['app-1.0.tgz', 'README', 'app', 'app/bin', 'app/bin/start.sh', 'app/conf.properties']) {
      expect([path, ownerOf(`${dir}/${path}`)]).toEqual([path, 'nobody:nogroup']);
    }
    expect(ownerOf(`${dir}/app/logs/keep.log`)).toBe('root:root');
    expect(existsSync(canary)).toBe(false);
  });

  it('unpacks a zip and a plain tar', async () => {
    const zip = await zipOf({ 'web/index.html': '<h1>hi</h1>', 'web/css/a.css': 'a{}' });
    const plainTar = await tarGzOf([{ name: 'data/x.csv', body: '1,2\n' }], false);
    const [z, t] = (await runItems(rt, copy, [
      { guid: 'z', endpoint: await put('site.zip', zip), target: m0, destinationPath: `${root}/unpack-zip/site.zip`, unpack: true },
      { guid: 't', endpoint: await put('data.tar', plainTar), target: m1, destinationPath: `${root}/unpack-tar/`, unpack: 'TRUE' },
    ])) as Out[];
    expect([z!['errorMessage'], t!['errorMessage']]).toEqual(['', '']);
    expect(tree(`${root}/unpack-zip`)).toEqual({ 'site.zip': zip.toString('utf8'), 'web/index.html': '<h1>hi</h1>', 'web/css/a.css': 'a{}' });
    expect(tree(`${root}/unpack-tar`)).toEqual({ 'data.tar': plainTar.toString('utf8'), 'data/x.csv': '1,2\n' });
  });

  it('refuses a zip-slip archive before anything is written on the host', async () => {
    const dir = `${root}/slip`;
    const evil = await tarGzOf([
      { name: 'ok.txt', body: 'ok' },
      { name: `../../${root.split('/').pop()}-slipped.txt`, body: 'pwned' },
    ]);
    const [out] = (await runItems(rt, copy, [
      { guid: 's', endpoint: await put('evil.tgz', evil), target: m0, destinationPath: `${dir}/`, unpack: 'true' },
    ])) as Out[];
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(out!['errorMessage']).toMatch(/^Failed to unpack file evil\.tgz: entry \.\.\/\.\.\/.*escapes the package root$/);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`/tmp/${root.split('/').pop()}-slipped.txt`)).toBe(false);
  });

  it('refuses an archive that writes below one of its own files, before the host is touched', async () => {
    const dir = `${root}/unpack-fails`;
    // "x" is a file, then "x/y" needs it to be a directory: Python's tarfile would fail half-way on the host.
    const broken = await tarGzOf([
      { name: 'first.txt', body: '1' },
      { name: 'x', body: 'file' },
      { name: 'x/y', body: 'under a file' },
    ]);
    const [out] = (await runItems(rt, copy, [
      { guid: 'f', endpoint: await put('broken.tgz', broken), target: m0, destinationPath: `${dir}/`, unpack: 'true' },
    ])) as Out[];
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(out!['errorMessage']).toMatch(/^Failed to unpack file broken\.tgz: entry x\/y /);
    expect(existsSync(dir)).toBe(false);
  });

  it('fails clearly for a missing object or an unknown owner, writing nothing', async () => {
    const url = await put('exists.txt', 'x');
    const [missing, owner] = (await runItems(rt, copy, [
      { guid: 'm', endpoint: s3().url(bucket, 'host-file-test/does-not-exist.txt'), target: m0, destinationPath: `${root}/missing/` },
      { guid: 'o', endpoint: url, target: m0, destinationPath: `${root}/owner/`, fileOwner: 'no_such_user_x1' },
    ])) as Out[];
    expect(missing).toMatchObject({
      errorCode: '1',
      errorType: 'E_ARTIFACT_NOT_FOUND',
      errorMessage: `S3 file ${s3().url(bucket, 'host-file-test/does-not-exist.txt')} is not found.`,
    });
    expect(owner).toMatchObject({ errorCode: '1', errorType: 'E_JOB_FAILED' });
    expect(owner!['errorMessage']).toContain('no_such_user_x1');
    expect(existsSync(`${root}/missing`)).toBe(false);
    expect(existsSync(`${root}/owner/exists.txt`)).toBe(false);
  });
});

describe('host-file/create', () => {
  it('writes the content byte for byte with owner and mode, under a name full of shell characters taken literally', async () => {
    const name = `${root}/create/a b;$(touch ${canary})\`touch ${canary}\`"q"'q'|&>.conf`;
    const content = 'line 1\r\nline 2 $(touch ' + canary + ')\nno final newline';
    const [ok, trailing, nl, big, dir] = (await runItems(rt, create, [
      { guid: 'c', target: m0, destinationPath: name, fileContent: content, fileOwner: 'nobody:nogroup', fileMode: '640' },
      { guid: 't', target: m1, destinationPath: `${root}/create-1/trailing.txt`, fileContent: 'two newlines\n\n' },
      { guid: 'n', target: m0, destinationPath: `${root}/create/new\nline`, fileContent: 'x' },
      { guid: 'b', target: m0, destinationPath: `${root}/create/big`, fileContent: 'x'.repeat(4 * 1024 * 1024 + 1) },
      { guid: 'd', target: m0, destinationPath: `${root}/create/`, fileContent: 'x' },
    ])) as Out[];
    expect(trailing).toMatchObject({ errorCode: '0' });
    expect(readFileSync(`${root}/create-1/trailing.txt`, 'utf8')).toBe('two newlines\n\n');
    expect(ok).toMatchObject({ errorCode: '0', detail: `{"return": [{"${m0}": "${md5(content)}"}]}` });
    expect(readFileSync(name, 'utf8')).toBe(content);
    expect(ownerOf(name)).toBe('nobody:nogroup');
    expect(modeOf(name)).toBe('0640');
    expect(nl).toMatchObject({
      errorCode: '1',
      errorMessage: 'Parameter destinationPath validation failed: contains a control character (newline, tab, NUL...)',
    });
    expect(big!['errorMessage']).toMatch(/^Parameter fileContent validation failed: 4194305 bytes is more than 4194304/);
    expect(dir!['errorMessage']).toBe('Parameter destinationPath validation failed: must name a file, not a directory');
    expect(readdirSync(`${root}/create`)).toHaveLength(1);
    expect(await s3().list(bucket, '.wecube-plugin/host-file-create/')).toEqual([]);
    expect(existsSync(canary)).toBe(false);
  });
});

describe('host-file/find', () => {
  it('finds by glob under a directory, recursively, and returns "" when nothing matches', async () => {
    const dir = `${root}/find`;
    mkdirSync(`${dir}/sub`, { recursive: true });
    for (const f of ['a.log', 'b.txt', 'sub/c.log', 'sub/$(x).log']) writeFileSync(`${dir}/${f}`, f);
    const [logs, none, odd, ghost] = (await runItems(rt, find, [
      { guid: 'l', target: m0, filePath: dir, filePattern: '*.log' },
      { guid: 'n', target: m1, filePath: dir, filePattern: '*.nothing' },
      { guid: 'o', target: m0, filePath: dir, filePattern: `*$(touch ${canary})*` },
      { guid: 'g', target: UNKNOWN, filePath: dir, filePattern: '*.log' },
    ])) as Out[];
    expect(logs).toMatchObject({ errorCode: '0', files: [`${dir}/a.log`, `${dir}/sub/$(x).log`, `${dir}/sub/c.log`].sort().join(',') });
    expect(none).toMatchObject({ errorCode: '0', files: '' });
    expect(odd).toMatchObject({ errorCode: '0', files: '' });
    expect(ghost).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(existsSync(canary)).toBe(false);
  });

  it('matches a glob that a naive translation backtracks on in about the time of a plain one', async () => {
    // `.*a` nine times then `.*b` takes Python's re ~8 s on 40 `a`s (C(40,9) tries) and grows as n^9; the
    // name is kept that short so that a broken translation costs the minion seconds, not hours.
    const dir = `${root}/find-slow`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${'a'.repeat(40)}`, 'x');
    writeFileSync(`${dir}/${'a'.repeat(9)}b`, 'x');
    const time = async (filePattern: string) => {
      const started = Date.now();
      const [out] = (await runItems(rt, find, [{ guid: 't', target: m0, filePath: dir, filePattern }])) as Out[];
      return { out, ms: Date.now() - started };
    };
    const plain = await time('*.log');
    const hard = await time('*a*a*a*a*a*a*a*a*a*b');
    expect(plain.out).toMatchObject({ errorCode: '0', files: '' });
    expect(hard.out).toMatchObject({ errorCode: '0', files: `${dir}/${'a'.repeat(9)}b` });
    expect(hard.ms / plain.ms).toBeLessThan(5);
  });
});

describe('host-file/delete', () => {
  it('deletes paths and directory contents inside baseDir, and refuses what leaves it', async () => {
    const base = `${root}/del`;
    const outside = `${root}/outside`;
    mkdirSync(`${base}/logs/old`, { recursive: true });
    mkdirSync(`${base}/pkg`, { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(`${base}/logs/a.log`, 'a');
    writeFileSync(`${base}/logs/old/b.log`, 'b');
    writeFileSync(`${base}/pkg/app.tgz`, 'p');
    writeFileSync(`${base}/keep.txt`, 'k');
    writeFileSync(`${outside}/precious`, 'p');
    symlinkSync(outside, `${base}/link`);
    const [ok, climb, link, slash, top, ghost] = (await runItems(rt, del, [
      { guid: 'ok', host: m0, baseDir: base, targetPath: 'logs/,/pkg/app.tgz,missing.txt' },
      { guid: 'climb', host: m0, baseDir: base, targetPath: '../outside' },
      { guid: 'link', host: m1, baseDir: base, targetPath: 'link/' },
      { guid: 'slash', host: m0, targetPath: '/' },
      { guid: 'top', host: m0, targetPath: '/tmp/' },
      { guid: 'ghost', host: UNKNOWN, baseDir: base, targetPath: 'keep.txt' },
    ])) as Out[];
    expect(ok).toMatchObject({ errorCode: '0', detail: `emptied ${base}/logs/; removed ${base}/pkg/app.tgz; removed ${base}/missing.txt` });
    expect(readdirSync(`${base}/logs`)).toEqual([]);
    expect(existsSync(`${base}/pkg`)).toBe(true);
    expect(existsSync(`${base}/pkg/app.tgz`)).toBe(false);
    expect(climb).toMatchObject({ errorCode: '1', errorMessage: 'Parameter targetPath validation failed: path illegal: ../outside (must not contain ..)' });
    expect(link).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(link!['errorMessage']).toContain(`resolves to ${outside}, outside ${base}`);
    expect(slash!['errorMessage']).toBe('Parameter targetPath validation failed: path illegal: / (is /)');
    expect(top!['errorMessage']).toContain('is a top-level directory');
    expect(ghost).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(readFileSync(`${outside}/precious`, 'utf8')).toBe('p');
    expect(readFileSync(`${base}/keep.txt`, 'utf8')).toBe('k');
  });

  it('removes a symbolic link itself, not what it points to', async () => {
    const base = `${root}/del-link`;
    mkdirSync(`${root}/target-dir`, { recursive: true });
    writeFileSync(`${root}/target-dir/t`, 't');
    mkdirSync(base, { recursive: true });
    symlinkSync(`${root}/target-dir`, `${base}/l`);
    const [out] = (await runItems(rt, del, [{ guid: 'l', host: m0, baseDir: base, targetPath: 'l' }])) as Out[];
    expect(out).toMatchObject({ errorCode: '0' });
    expect(existsSync(`${base}/l`)).toBe(false);
    expect(readFileSync(`${root}/target-dir/t`, 'utf8')).toBe('t');
  });
});

describe('over HTTP, including the old API guide', () => {
  let server: RunningServer;
  const oldBucket = 'brankbao';
  const oldFile = '/data/app/scripts/unpack-demo.tar';
  const createdDirs: string[] = [];
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'off' });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(oldFile, { force: true });
    for (const dir of createdDirs.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty: someone else's files are there too
      }
    }
    await s3().remove(oldBucket, 'unpack-demo.tar');
    expect(server.output()).not.toContain('X-Amz-Signature');
    expect(capturedLogs.join('\n')).not.toContain('X-Amz-Signature');
  });

  it('serves the API guide example of /v1/deploy/file/copy with its exact JSON', async () => {
    for (const dir of ['/data', '/data/app', '/data/app/scripts']) if (!existsSync(dir)) createdDirs.push(dir);
    expect(existsSync(oldFile)).toBe(false);
    await s3().createBucket(oldBucket);
    const demo = await tarGzOf([{ name: 'unpack-demo/run.sh', body: 'echo demo\n' }], false);
    await s3().put(oldBucket, 'unpack-demo.tar', demo);
    const body =
      '{\n  "inputs":[{\n        "guid":"10002_000000001",\n        "endpoint":"http://127.0.0.1:9000/brankbao/unpack-demo.tar",\n        "target":"127.0.0.1",\n        "destinationPath":"/data/app/scripts/unpack-demo.tar"\n    }]\n}';
    const { status, body: response } = await postJson(server.url + '/v1/deploy/file/copy', body);
    expect(status).toBe(200);
    expect(response).toEqual({
      resultCode: '0',
      resultMessage: 'success',
      results: { outputs: [{ guid: '10002_000000001', detail: `{"return": [{"127.0.0.1": "${md5(demo)}"}]}`, errorCode: '0', errorMessage: '' }] },
    });
    expect(md5Of(oldFile)).toBe(md5(demo));
  });

  it('copies to both minions and reports the unknown host by guid in resultMessage', async () => {
    const url = await put('http.txt', 'over http\n');
    const { body } = await postJson(server.url + '/saltstack/v1/host-file/copy', {
      inputs: [
        { guid: 'h0', endpoint: url, target: m0, destinationPath: `${root}/http-0/` },
        { guid: 'h1', endpoint: url, target: m1, destinationPath: `${root}/http-1/` },
        { guid: 'hx', endpoint: url, target: UNKNOWN, destinationPath: `${root}/http-x/` },
      ],
    });
    expect(body['resultCode']).toBe('1');
    expect(body['resultMessage']).toContain('(guid hx): Salt-master can not recognize 10.255.255.251');
    expect((body['results'].outputs as Out[]).map((o) => [o['guid'], o['errorCode']])).toEqual([
      ['h0', '0'],
      ['h1', '0'],
      ['hx', '1'],
    ]);
    expect(readFileSync(`${root}/http-1/http.txt`, 'utf8')).toBe('over http\n');
  });
});
