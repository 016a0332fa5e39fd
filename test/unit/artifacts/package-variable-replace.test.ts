import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replacePackageVariables, STAGING_PREFIX, type PackageVariableDeps } from '../../../lib/artifacts/package-variable-replace.js';
import { DEFAULT_PREFIXES } from '../../../lib/artifacts/placeholder-prefixes.js';
import { encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { ArtifactNotFoundError, InputError, SecretError } from '../../../lib/errors.js';
import { listZip, rawTar, sampleTree, snapshotDir, tarDir, untar, writeTree, zipTree, zipWithName, type Snapshot } from '../../support/packages.js';
import { captureLogger } from '../helpers.js';
import { MemoryStore } from './memory-store.js';

const ORIGIN = 'http://s3.local:9000';
const NOW = new Date(2025, 4, 23, 15, 9, 58);
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

let work: string;
let tree: ReturnType<typeof sampleTree>;
let original: Record<string, Snapshot>;
let tgz: Buffer;
let plainTar: Buffer;
let zip: Buffer;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pvr-unit-'));
  tree = sampleTree();
  writeTree(join(work, 'src'), tree);
  original = snapshotDir(join(work, 'src'));
  tgz = tarDir(join(work, 'src'), join(work, 'pkg.tgz'), true);
  plainTar = tarDir(join(work, 'src'), join(work, 'pkg.tar'), false);
  zip = await zipTree(tree);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function setup(overrides: Partial<PackageVariableDeps['config']> = {}) {
  const store = new MemoryStore();
  const deps: PackageVariableDeps = {
    config: { encryptSeed: undefined, placeholders: DEFAULT_PREFIXES, variableNullCheck: false, s3: { bucket: undefined }, ...overrides },
    store: () => store,
    now: () => NOW,
    rand: () => 'k3x9',
  };
  const { logger, lines } = captureLogger();
  const run = (request: Parameters<typeof replacePackageVariables>[0]) => replacePackageVariables(request, deps, { logger });
  return { store, deps, run, lines };
}

const EXPECTED_PROPERTIES = 'port=8080\r\nhost=db.internal\r\nmissing=[@nope]\r\nlist=[8080]\r\n';
const VARS = 'port=8080, db_host=db.internal';

/** The output object's bytes, after checking its name and that nothing else was left behind. */
function output(store: MemoryStore, s3PkgPath: string, bucket: string, dir: string, name: string, ext: string): Buffer {
  const key = decodeURIComponent(s3PkgPath.slice(`${ORIGIN}/${bucket}/`.length));
  expect(s3PkgPath.startsWith(`${ORIGIN}/${bucket}/${dir}`)).toBe(true);
  const data = store.read(bucket, key)!;
  expect(data).toBeDefined();
  expect(key).toBe(`${dir}${md5(data)}_${name}_20250523150958_k3x9${ext}`);
  expect([...store.objects.keys()].filter((k) => k.includes(STAGING_PREFIX))).toEqual([]);
  return data;
}

describe('package-variable/replace (in-memory store)', () => {
  it.each([
    ['tgz', 'pkg.tgz', '.tgz'],
    ['tar.gz', 'pkg.tar.gz', '.tar.gz'],
    ['tar', 'pkg.tar', '.tar'],
  ])('re-packs a %s with the conf file substituted and every other entry unchanged', async (_kind, name, ext) => {
    const { store, run } = setup();
    store.set('bucket', `releases/${name}`, ext === '.tar' ? plainTar : tgz);
    const result = await run({ endpoint: `${ORIGIN}/bucket/releases/${name}`, confFiles: '/app/conf/app.properties', variableList: VARS });
    expect(result.unresolvedVariables).toEqual([{ file: 'app/conf/app.properties', line: '3', key: 'nope', type: '@' }]);
    const data = output(store, result.s3PkgPath, 'bucket', 'releases/', 'pkg', ext);
    expect(data.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(ext !== '.tar');
    const out = join(work, `out-${name}`);
    writeFileSync(`${out}.pkg`, data);
    untar(`${out}.pkg`, out);
    const copy = snapshotDir(out);
    expect(readFileSync(join(out, 'app/conf/app.properties'), 'utf8')).toBe(EXPECTED_PROPERTIES);
    const { ['app/conf/app.properties']: changed, ...rest } = copy;
    const { ['app/conf/app.properties']: before, ...untouched } = original;
    expect(rest).toEqual(untouched);
    expect(changed!.mode).toBe(before!.mode);
    expect(copy['app/empty']).toEqual({ type: 'dir', mode: 0o700 });
    expect(copy['app/current']).toEqual({ type: 'symlink', mode: 0, target: 'conf/plain.yml' });
  });

  it('re-packs a zip with modes, empty dir, dotfile and symlink kept', async () => {
    const { store, run } = setup();
    store.set('bucket', 'pkg.zip', zip);
    const result = await run({ endpoint: `${ORIGIN}/bucket/pkg.zip`, confFiles: 'app/conf/app.properties|app/bin/start.sh', variableList: VARS });
    const data = output(store, result.s3PkgPath, 'bucket', '', 'pkg', '.zip');
    writeFileSync(join(work, 'out.zip'), data);
    writeFileSync(join(work, 'in.zip'), zip);
    const before = listZip(join(work, 'in.zip'));
    const after = listZip(join(work, 'out.zip'));
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const path of Object.keys(before)) {
      if (path === 'app/conf/app.properties' || path === 'app/bin/start.sh') {
        expect(after[path]!.mode).toBe(before[path]!.mode);
        expect(after[path]!.sha256).not.toBe(before[path]!.sha256);
      } else expect(after[path]).toEqual(before[path]);
    }
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(after['app/conf/app.properties']!.sha256).toBe(sha(EXPECTED_PROPERTIES));
    expect(after['app/bin/start.sh']!.sha256).toBe(sha('#!/bin/sh\nexec java -Dport=8080 -jar app.jar\n'));
    expect(after['app/bin/start.sh']!.mode).toBe(0o755);
  });

  it("writes into the configured artifact bucket when there is one, in the source package's folder (as upstream, next to it)", async () => {
    const { store, run } = setup({ s3: { bucket: 'salt-tmp' } });
    store.set('wecube', 'd/pkg.tgz', tgz);
    const result = await run({ endpoint: `${ORIGIN}/wecube/d/pkg.tgz`, confFiles: 'app/conf/app.properties', variableList: VARS });
    output(store, result.s3PkgPath, 'salt-tmp', 'd/', 'pkg', '.tgz');
    store.set('salt-tmp', 'apps/v2/pkg.tgz', tgz);
    const same = await run({ endpoint: `${ORIGIN}/salt-tmp/apps/v2/pkg.tgz`, confFiles: 'app/conf/app.properties', variableList: VARS });
    output(store, same.s3PkgPath, 'salt-tmp', 'apps/v2/', 'pkg', '.tgz');
  });

  it('does not stack timestamps when a re-packed package is processed again', async () => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', tgz);
    const first = await run({ endpoint: `${ORIGIN}/b/pkg.tgz`, confFiles: 'app/bin/start.sh', variableList: VARS });
    const second = await run({ endpoint: first.s3PkgPath, confFiles: 'app/bin/start.sh', variableList: 'port=9090' });
    output(store, second.s3PkgPath, 'b', '', 'pkg', '.tgz');
  });

  it.each([
    ['no confFiles', { confFiles: '', variableList: VARS }],
    ['no variableList', { confFiles: 'a', variableList: '  ' }],
  ])('returns the endpoint without downloading when there are %s', async (_name, fields) => {
    const { store, run } = setup();
    const endpoint = `${ORIGIN}/b/not-even-an-archive.txt`;
    expect(await run({ endpoint, ...fields })).toEqual({ s3PkgPath: endpoint, unresolvedVariables: [] });
    expect(store.calls).toEqual([]);
  });

  it.each<[string, { endpoint?: string; confFiles: string }, string]>([
    [
      'an endpoint that is not an archive',
      { endpoint: `${ORIGIN}/b/pkg.rar`, confFiles: 'a' },
      `File ${ORIGIN}/b/pkg.rar is illegal to be recognized as a compressed file type`,
    ],
    ['a conf file outside the package', { confFiles: 'app/../../etc/passwd' }, 'confFiles entry app/../../etc/passwd escapes the package root'],
    ['a missing conf file', { confFiles: 'app/conf/app.properties,app/conf/missing.txt' }, 'path:app/conf/missing.txt is not exist in pkg.tgz'],
    ['a conf file that is a directory', { confFiles: 'app/conf' }, 'path:app/conf is dir'],
    ['a conf file that is a symlink', { confFiles: 'app/current' }, 'path:app/current is a symbolic link, not a file'],
    ['the root as conf file', { confFiles: '/' }, 'path:/ is dir'],
  ])('refuses %s, uploading nothing', async (_name, fields, message) => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', tgz);
    await expect(run({ endpoint: `${ORIGIN}/b/pkg.tgz`, variableList: VARS, ...fields })).rejects.toThrow(message);
    expect([...store.objects.keys()]).toEqual(['b/pkg.tgz']);
  });

  it('names the missing package URL', async () => {
    const { run } = setup();
    const endpoint = `${ORIGIN}/b/missing.tgz`;
    const error = await run({ endpoint, confFiles: 'a', variableList: VARS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactNotFoundError);
    expect((error as Error).message).toBe(`S3 file ${endpoint} is not found.`);
  });

  it.each([
    ['a request flag', {}, 'Y'],
    ['VARIABLE_NULL_CHECK', { variableNullCheck: true }, undefined],
  ])('fails on unresolved placeholders with the null check from %s, uploading nothing', async (_name, config, flag) => {
    const { store, run } = setup(config);
    store.set('b', 'pkg.tgz', tgz);
    await expect(run({ endpoint: `${ORIGIN}/b/pkg.tgz`, confFiles: 'app/conf/app.properties', variableList: VARS, variableNullCheck: flag })).rejects.toThrow(
      'Variables not found in variableList: app/conf/app.properties:3 [@nope]',
    );
    expect([...store.objects.keys()]).toEqual(['b/pkg.tgz']);
  });

  it.each([
    ['tgz', 'pkg.tgz'],
    ['zip', 'pkg.zip'],
  ])('refuses a %s whose entry climbs out of the root, uploading nothing', async (kind, name) => {
    const { store, run } = setup();
    const bad =
      kind === 'zip'
        ? await zipWithName('../evil.txt')
        : await rawTar([
            { name: 'ok.txt', content: 'x' },
            { name: '../evil.txt', content: 'x' },
          ]);
    store.set('b', name, bad);
    await expect(run({ endpoint: `${ORIGIN}/b/${name}`, confFiles: 'ok.txt', variableList: VARS })).rejects.toThrow(
      `Failed to unpack file ${name}: entry ../evil.txt escapes the package root`,
    );
    expect([...store.objects.keys()]).toEqual([`b/${name}`]);
  });

  it('refuses a tar whose symlink points out of the root', async () => {
    const { store, run } = setup();
    store.set(
      'b',
      'pkg.tgz',
      await rawTar([
        { name: 'conf/a', content: '[@port]' },
        { name: 'etc', type: 'symlink', linkname: '/etc' },
      ]),
    );
    await expect(run({ endpoint: `${ORIGIN}/b/pkg.tgz`, confFiles: 'conf/a', variableList: VARS })).rejects.toThrow(
      'Failed to unpack file pkg.tgz: entry etc is a symbolic link pointing outside the package root (/etc)',
    );
  });

  it('refuses a corrupt package with upstream text', async () => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', Buffer.from('not gzip at all'));
    const error = await run({ endpoint: `${ORIGIN}/b/pkg.tgz`, confFiles: 'a', variableList: VARS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^Failed to unpack file pkg\.tgz: /);
  });
});

describe('whole-file replacement (^ placeholders)', () => {
  const files = (order: 'target-first' | 'conf-first') => {
    const target = { name: 'app/ks/app.jks', content: 'OLD KEYSTORE' };
    const conf = { name: 'app/conf/a.properties', content: 'ks=[^/app/ks/app.jks]\nnew=[^app/ks/added.pem]\n' };
    return order === 'target-first' ? [target, conf] : [conf, target];
  };

  it.each(['target-first', 'conf-first'] as const)('replaces the target and adds a new file (%s)', async (order) => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', await rawTar(files(order)));
    store.set('b', 'new.jks', Buffer.from('NEW KEYSTORE'));
    store.set('b', 'added.pem', Buffer.from('PEM'));
    const result = await run({
      endpoint: `${ORIGIN}/b/pkg.tgz`,
      confFiles: 'app/conf/a.properties',
      variableList: `^/app/ks/app.jks=${ORIGIN}/b/new.jks, ^app/ks/added.pem=s3://b/added.pem`,
    });
    const data = output(store, result.s3PkgPath, 'b', '', 'pkg', '.tgz');
    const out = join(work, `ks-${order}`);
    writeFileSync(`${out}.tgz`, data);
    untar(`${out}.tgz`, out);
    expect(readFileSync(join(out, 'app/ks/app.jks'), 'utf8')).toBe('NEW KEYSTORE');
    expect(readFileSync(join(out, 'app/ks/added.pem'), 'utf8')).toBe('PEM');
    expect(readFileSync(join(out, 'app/conf/a.properties'), 'utf8')).toBe('ks=[^/app/ks/app.jks]\nnew=[^app/ks/added.pem]\n');
    expect(store.calls.filter((c) => c === 'get b/pkg.tgz').length).toBe(order === 'target-first' ? 2 : 1);
  });

  it('replaces a zip entry too', async () => {
    const { store, run } = setup();
    store.set('b', 'pkg.zip', await zipTree(files('target-first').map((f) => ({ path: f.name, content: f.content }))));
    store.set('b', 'new.jks', Buffer.from('NEW KEYSTORE'));
    const result = await run({ endpoint: `${ORIGIN}/b/pkg.zip`, confFiles: 'app/conf/a.properties', variableList: `^/app/ks/app.jks=${ORIGIN}/b/new.jks` });
    writeFileSync(join(work, 'ks.zip'), output(store, result.s3PkgPath, 'b', '', 'pkg', '.zip'));
    expect(listZip(join(work, 'ks.zip'))['app/ks/app.jks']!.sha256).toBe(createHash('sha256').update('NEW KEYSTORE').digest('hex'));
  });

  it('fails with the URL of a replacement object that does not exist', async () => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', await rawTar(files('conf-first')));
    await expect(
      run({ endpoint: `${ORIGIN}/b/pkg.tgz`, confFiles: 'app/conf/a.properties', variableList: `^/app/ks/app.jks=${ORIGIN}/b/none.jks` }),
    ).rejects.toThrow(`S3 file ${ORIGIN}/b/none.jks is not found.`);
    expect([...store.objects.keys()]).toEqual(['b/pkg.tgz']);
  });

  // replacementBucket: what a release started from a manifest in bucket b passes.
  it.each([
    ['another bucket (path style)', `${ORIGIN}/other/new.jks`, 'in bucket other: this release may only read bucket b'],
    ['another bucket (s3://)', 's3://other/new.jks', 'in bucket other: this release may only read bucket b'],
    ['dot segments out of the bucket', 's3://b/../other/new.jks', 'key has `.` or `..` segments'],
  ])('refuses a replacement file in %s when confined to one bucket, reading nothing of it', async (_, url, message) => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', await rawTar(files('conf-first')));
    store.set('other', 'new.jks', Buffer.from('OTHER KEYSTORE'));
    const error = await run({
      endpoint: `${ORIGIN}/b/pkg.tgz`,
      confFiles: 'app/conf/a.properties',
      variableList: `^/app/ks/app.jks=${url}`,
      replacementBucket: 'b',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('new.jks'); // a variable's value is not quoted
    expect(store.calls.filter((c) => c.includes('other') || c.includes('..'))).toEqual([]);
  });

  it('reads a replacement file in the one bucket it is confined to', async () => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', await rawTar(files('conf-first')));
    store.set('b', 'new.jks', Buffer.from('NEW KEYSTORE'));
    const result = await run({
      endpoint: `${ORIGIN}/b/pkg.tgz`,
      confFiles: 'app/conf/a.properties',
      variableList: `^/app/ks/app.jks=s3://b/new.jks`,
      replacementBucket: 'b',
    });
    expect(store.calls).toContain('get b/new.jks');
    output(store, result.s3PkgPath, 'b', '', 'pkg', '.tgz');
  });
});

describe('RSA keys and secrets', () => {
  it('decrypts {cipher_a} keys with guid and seed, encrypts ! and + values (escape list matching nothing), and logs no secret', async () => {
    const app = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sysPem = sys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const appPem = app.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const seed = 'seed-42';
    const { store, run, lines } = setup({ encryptEscape: ['~'] });
    store.set('b', 'pkg.tgz', await rawTar([{ name: 'conf/a', content: 's=[+pw]\nd=[!pw]\n' }]));
    const pw = 'Very$ecret-pw';
    const result = await run({
      guid: 'g1',
      seed,
      endpoint: `${ORIGIN}/b/pkg.tgz`,
      confFiles: 'conf/a',
      variableList: JSON.stringify([{ key: 'pw', value: `${encodeCipherA('v1', seed, pw)}&\x01v1` }]),
      appPublicKey: encodeCipherA('g1', seed, appPem.replace(/\n/g, '\\n')),
      sysPrivateKey: encodeCipherA('g1', seed, sysPem),
    });
    const data = output(store, result.s3PkgPath, 'b', '', 'pkg', '.tgz');
    const out = join(work, 'rsa');
    writeFileSync(`${out}.tgz`, data);
    untar(`${out}.tgz`, out);
    const [single, double] = readFileSync(join(out, 'conf/a'), 'utf8').split('\n');
    expect(single).toMatch(/^s=ffffff02[0-9a-f]+$/);
    const opened = privateDecrypt({ key: app.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(single!.slice(10), 'hex'));
    expect(opened.toString()).toBe(pw);
    expect(double).toMatch(/^d=[0-9a-f]{512}$/);
    const log = lines.join('\n');
    expect(log).toContain('package re-packed');
    expect(log).not.toContain(pw);
    expect(log).not.toContain(sysPem.split('\n')[1]!);
  });

  it.each([
    ['upstream\'s default escape list [""]', {}, 's=Very$ecret-pw'],
    ['an escape entry matching the key', { encryptEscape: ['\\+p'] }, 's=Very$ecret-pw'],
  ])('leaves + values plain with %s, as the Go plugin does; ! values are still encrypted', async (_name, overrides, expected) => {
    const app = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const seed = 'seed-43';
    const { store, run } = setup(overrides);
    store.set('b', 'esc.tgz', await rawTar([{ name: 'conf/a', content: 's=[+pw]\nd=[!pw]\n' }]));
    const result = await run({
      guid: 'g1',
      seed,
      endpoint: `${ORIGIN}/b/esc.tgz`,
      confFiles: 'conf/a',
      variableList: JSON.stringify([{ key: 'pw', value: 'Very$ecret-pw' }]),
      appPublicKey: app.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      sysPrivateKey: encodeCipherA('g1', seed, sys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    });
    const out = join(work, `esc-${Object.keys(overrides).length}`);
    writeFileSync(`${out}.tgz`, output(store, result.s3PkgPath, 'b', '', 'esc', '.tgz'));
    untar(`${out}.tgz`, out);
    const [single, double] = readFileSync(join(out, 'conf/a'), 'utf8').split('\n');
    expect(single).toBe(expected);
    expect(double).toMatch(/^d=[0-9a-f]{512}$/);
  });

  it('reports a key that does not decrypt with upstream text', async () => {
    const { store, run } = setup();
    store.set('b', 'pkg.tgz', tgz);
    const error = await run({
      guid: 'g1',
      seed: 's',
      endpoint: `${ORIGIN}/b/pkg.tgz`,
      confFiles: 'a',
      variableList: VARS,
      appPublicKey: encodeCipherA('other-guid', 's', 'key'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe('Password decoding failed, details: decode appPlubicKey fail,password wrong ');
  });
});
