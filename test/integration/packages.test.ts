import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { constants, createHash, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../../lib/artifacts/artifact-store.js';
import { STAGING_PREFIX } from '../../lib/artifacts/package-variable-replace.js';
import { packageVariableReplace } from '../../lib/artifacts/package-variable-replace-operation.js';
import { parseEndpoint } from '../../lib/artifacts/parse-endpoint.js';
import { releasedPackageGetConfigFileKey, releasedPackageListCurrentDir } from '../../lib/artifacts/released-package.js';
import { encodeCipherA } from '../../lib/crypto/cipher-a.js';
import type { Runtime } from '../../lib/runtime.js';
import { makeHttpHandler } from '../../lib/wecube/http-handler.js';
import type { Operation } from '../../lib/wecube/operation.js';
import { listZip, rawTar, sampleTree, snapshotDir, tarDir, untar, writeTree, zipTree, type Snapshot } from '../support/packages.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackEnv, stackRuntime } from '../support/stack.js';
import { httpEvent, lambdaContext } from '../unit/helpers.js';

const env = stackEnv();
const BUCKET = env['S3_BUCKET'] || 'artifacts';
const RUN = `it-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
const APP = `app-${RUN}`;
const url = (key: string) => `${env['S3_ENDPOINT']}/${BUCKET}/${key}`;

let rt: Runtime;
let store: ArtifactStore;
let s3: S3Client;
let work: string;
let original: Record<string, Snapshot>;
let tgz: Buffer;
let zip: Buffer;
let handler: ReturnType<typeof makeHttpHandler>;

const put = (key: string, data: Buffer) => store.put({ ...parseEndpoint(url(key)) }, Readable.from([data]));
async function fetchObject(endpoint: string): Promise<Buffer> {
  const { body } = await store.get(parseEndpoint(endpoint));
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
async function keys(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}
async function call(path: string, inputs: unknown[], via = handler) {
  const result = (await via(httpEvent(path, JSON.stringify({ inputs })), lambdaContext(120_000))) as APIGatewayProxyStructuredResultV2;
  expect(result.statusCode).toBe(200);
  const body = JSON.parse(String(result.body)) as { resultCode: string; resultMessage: string; results: { outputs: Array<Record<string, any>> } };
  return { ...body, outputs: body.results.outputs };
}
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

beforeAll(async () => {
  rt = stackRuntime();
  store = rt.store();
  s3 = new S3Client({
    endpoint: env['S3_ENDPOINT'],
    region: env['S3_REGION'] || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env['S3_ACCESS_KEY']!, secretAccessKey: env['S3_SECRET_KEY']! },
  });
  work = mkdtempSync(join(tmpdir(), 'pkg-it-'));
  const tree = sampleTree(randomBytes(300_000));
  writeTree(join(work, 'src'), tree);
  original = snapshotDir(join(work, 'src'));
  tgz = tarDir(join(work, 'src'), join(work, 'pkg.tgz'), true);
  zip = await zipTree(tree);
  const deps = { config: rt.config, store: rt.store };
  handler = makeHttpHandler([packageVariableReplace(deps), releasedPackageListCurrentDir(deps), releasedPackageGetConfigFileKey(deps)] as Operation[], rt);
  await put(`${RUN}/${APP}.tgz`, tgz);
  await put(`${RUN}/${APP}.tar.gz`, tgz);
  await put(`${RUN}/${APP}.zip`, zip);
}, 60_000);

afterAll(async () => {
  const mine = (await keys('')).filter((k) => k.includes(RUN));
  if (mine.length) await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: mine.map((Key) => ({ Key })) } }));
  rmSync(work, { recursive: true, force: true });
  s3.destroy();
});

const VARIABLES = 'port=8080, DB_HOST=db.internal';
const PROPERTIES = 'port=8080\r\nhost=db.internal\r\nmissing=[@nope]\r\nlist=[8080]\r\n';

describe('package-variable/replace against the S3 server', () => {
  it.each([
    ['tgz', `${APP}.tgz`, '/saltstack/v1/package-variable/replace'],
    ['tar.gz', `${APP}.tar.gz`, '/v1/deploy/variable/replace'],
  ])('round-trips a %s: conf file substituted, every other entry byte-identical with its mode', async (_kind, name, path) => {
    const { outputs, resultCode } = await call(path, [
      { guid: 'g1', callbackParameter: 'cb1', endpoint: url(`${RUN}/${name}`), confFiles: '/app/conf/app.properties', variableList: VARIABLES },
    ]);
    expect(resultCode).toBe('0');
    const out = outputs[0]!;
    expect(out).toMatchObject({ guid: 'g1', callbackParameter: 'cb1', errorCode: '0', errorMessage: '' });
    expect(out['unresolvedVariables']).toEqual([{ file: 'app/conf/app.properties', line: '3', key: 'nope', type: '@' }]);
    const ext = name.endsWith('.tgz') ? '.tgz' : '.tar.gz';
    // next to the source package, in its folder (upstream)
    expect(out['s3PkgPath']).toMatch(new RegExp(`^${env['S3_ENDPOINT']}/${BUCKET}/${RUN}/[0-9a-f]{32}_${APP}_\\d{14}_[0-9a-z]{4}${ext.replace('.', '\\.')}$`));
    const data = await fetchObject(out['s3PkgPath']);
    expect(out['s3PkgPath']).toContain(`/${md5(data)}_`);
    const dir = join(work, `out-${name}`);
    writeFileSync(`${dir}.pkg`, data);
    untar(`${dir}.pkg`, dir);
    const copy = snapshotDir(dir);
    expect(readFileSync(join(dir, 'app/conf/app.properties'), 'utf8')).toBe(PROPERTIES);
    for (const [entry, before] of Object.entries(original)) {
      if (entry === 'app/conf/app.properties') expect(copy[entry]!.mode).toBe(before.mode);
      else expect(copy[entry]).toEqual(before);
    }
    expect(Object.keys(copy).sort()).toEqual(Object.keys(original).sort());
    expect(await keys(STAGING_PREFIX)).toEqual([]);
  });

  it('round-trips a zip the same way (read back by Python zipfile)', async () => {
    const { outputs } = await call('/v1/deploy/package-variable/replace', [
      { guid: 'z', endpoint: url(`${RUN}/${APP}.zip`), confFiles: 'app/conf/app.properties', variableList: VARIABLES },
    ]);
    expect(outputs[0]).toMatchObject({ errorCode: '0' });
    writeFileSync(join(work, 'in.zip'), zip);
    writeFileSync(join(work, 'out.zip'), await fetchObject(outputs[0]!['s3PkgPath']));
    const before = listZip(join(work, 'in.zip'));
    const after = listZip(join(work, 'out.zip'));
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const [entry, b] of Object.entries(before)) {
      if (entry === 'app/conf/app.properties') {
        expect(after[entry]!.sha256).toBe(createHash('sha256').update(PROPERTIES).digest('hex'));
        expect(after[entry]!.mode).toBe(b.mode);
      } else expect(after[entry]).toEqual(b);
    }
  });

  it('fails only the item whose package is missing, naming its URL', async () => {
    const missing = url(`${RUN}/nope.tgz`);
    const { resultCode, resultMessage, outputs } = await call('/saltstack/v1/package-variable/replace', [
      { guid: 'missing', endpoint: missing, confFiles: 'a.conf', variableList: VARIABLES },
      { guid: 'ok', endpoint: url(`${RUN}/${APP}.tgz`), confFiles: 'app/bin/start.sh', variableList: VARIABLES },
      { guid: 'empty', endpoint: '', confFiles: 'a', variableList: 'a=1' },
    ]);
    expect(resultCode).toBe('1');
    expect(outputs[0]).toMatchObject({ guid: 'missing', errorCode: '1', errorType: 'E_ARTIFACT_NOT_FOUND', errorMessage: `S3 file ${missing} is not found.` });
    expect(outputs[0]).not.toHaveProperty('s3PkgPath');
    expect(outputs[1]).toMatchObject({ guid: 'ok', errorCode: '0' });
    expect(outputs[2]).toMatchObject({ guid: 'empty', errorCode: '1', errorMessage: 'Parameter endpoint can not empty.' });
    expect(resultMessage).toContain('guid missing');
  });

  it.each([
    [
      'a symlink pointing out of the root',
      [
        { name: 'conf/a', content: '[@port]' },
        { name: 'conf/etc', type: 'symlink' as const, linkname: '../../etc' },
      ],
      'entry conf/etc is a symbolic link pointing outside the package root (../../etc)',
    ],
    [
      'a hard link to an absolute path',
      [
        { name: 'conf/a', content: '[@port]' },
        { name: 'conf/shadow', type: 'link' as const, linkname: '/etc/shadow' },
      ],
      'entry conf/shadow is a hard link (to /etc/shadow): hard links are refused, pack the file itself',
    ],
    [
      'an entry climbing out',
      [
        { name: 'conf/a', content: '[@port]' },
        { name: 'conf/../../x', content: 'x' },
      ],
      'entry conf/../../x escapes the package root',
    ],
  ])('refuses a package with %s and writes nothing', async (_name, entries, message) => {
    const name = `evil-${randomBytes(3).toString('hex')}`;
    await put(`${RUN}/${name}.tgz`, await rawTar(entries));
    const before = await keys('');
    const { outputs } = await call('/saltstack/v1/package-variable/replace', [
      { guid: 'evil', endpoint: url(`${RUN}/${name}.tgz`), confFiles: 'conf/a', variableList: VARIABLES },
    ]);
    expect(outputs[0]).toMatchObject({ errorCode: '1', errorType: 'E_INPUT', errorMessage: `Failed to unpack file ${name}.tgz: ${message}` });
    expect((await keys('')).filter((k) => k.includes(`_${name}_`))).toEqual([]);
    expect(await keys('')).toEqual(before);
    expect(await keys(STAGING_PREFIX)).toEqual([]);
  });

  it('encrypts ! and + values with the request keys (+ only past the escape list) and never logs a secret', async () => {
    // With SALTSTACK_ENCRYPT_ESCAPE_PREFIX matching nothing, + values are encrypted; the default is upstream's (next test).
    const encRt = stackRuntime({ SALTSTACK_ENCRYPT_ESCAPE_PREFIX: '~' });
    const encDeps = { config: encRt.config, store: encRt.store };
    const encrypting = makeHttpHandler([packageVariableReplace(encDeps)] as Operation[], encRt);
    const app = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sysPem = sys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const secret = `pw-${randomBytes(6).toString('hex')}`;
    const seed = 'seed-it';
    await put(`${RUN}/rsa-${RUN}.tgz`, await rawTar([{ name: 'conf/db.properties', content: 'single=[+db_pw]\ndouble=[!DB_PW]\n' }]));
    const logsBefore = capturedLogs.length;
    const { outputs } = await call(
      '/saltstack/v1/package-variable/replace',
      [
        {
          guid: 'rsa-guid',
          seed,
          endpoint: url(`${RUN}/rsa-${RUN}.tgz`),
          confFiles: 'conf/db.properties',
          variableList: `db_pw\x01=\x01${encodeCipherA('var-guid', seed, secret)}&\x01var-guid`,
          appPublicKey: app.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          sysPrivateKey: encodeCipherA('rsa-guid', seed, sysPem),
        },
      ],
      encrypting,
    );
    expect(outputs[0]).toMatchObject({ errorCode: '0' });
    const dir = join(work, 'rsa');
    writeFileSync(`${dir}.tgz`, await fetchObject(outputs[0]!['s3PkgPath']));
    untar(`${dir}.tgz`, dir);
    const [single, double] = readFileSync(join(dir, 'conf/db.properties'), 'utf8').split('\n');
    expect(single!.startsWith('single=ffffff02')).toBe(true);
    const pkcs1 = { padding: constants.RSA_PKCS1_PADDING };
    expect(privateDecrypt({ key: app.privateKey, ...pkcs1 }, Buffer.from(single!.slice('single=ffffff02'.length), 'hex')).toString()).toBe(secret);
    expect(double).toMatch(/^double=[0-9a-f]{512}$/);
    const logs = capturedLogs.slice(logsBefore).join('\n');
    expect(logs).toContain('package re-packed');
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(sysPem.split('\n')[1]!);
  });

  it("leaves + values plain with upstream's default escape list, as the Go plugin does; ! values are encrypted", async () => {
    const app = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const seed = 'seed-esc';
    await put(`${RUN}/esc-${RUN}.tgz`, await rawTar([{ name: 'conf/db.properties', content: 'single=[+db_pw]\ndouble=[!DB_PW]\n' }]));
    const { outputs } = await call('/saltstack/v1/package-variable/replace', [
      {
        guid: 'esc-guid',
        seed,
        endpoint: url(`${RUN}/esc-${RUN}.tgz`),
        confFiles: 'conf/db.properties',
        variableList: JSON.stringify([{ key: 'db_pw', value: 'plain-pw-1' }]),
        appPublicKey: app.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        sysPrivateKey: encodeCipherA('esc-guid', seed, sys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      },
    ]);
    expect(outputs[0]).toMatchObject({ errorCode: '0' });
    const dir = join(work, 'esc');
    writeFileSync(`${dir}.tgz`, await fetchObject(outputs[0]!['s3PkgPath']));
    untar(`${dir}.tgz`, dir);
    const [single, double] = readFileSync(join(dir, 'conf/db.properties'), 'utf8').split('\n');
    expect(single).toBe('single=plain-pw-1');
    expect(double).toMatch(/^double=[0-9a-f]{512}$/);
  });
});

describe('released-package against the S3 server', () => {
  it('lists a directory of a tgz and of a zip with md5 of each file', async () => {
    const md5Of = (rel: string) => md5(readFileSync(join(work, 'src', rel)));
    const expected = [
      { name: '.env', isDir: false, md5: md5Of('app/.env') },
      { name: 'bin', isDir: true, md5: '' },
      { name: 'conf', isDir: true, md5: '' },
      { name: 'current', isDir: false, md5: '' },
      { name: 'empty', isDir: true, md5: '' },
      { name: 'lib', isDir: true, md5: '' },
    ];
    for (const name of [`${APP}.tgz`, `${APP}.zip`]) {
      const { outputs } = await call('/saltstack/v1/released-package/listCurrentDir', [{ guid: 'l', endpoint: url(`${RUN}/${name}`), currentDir: '/app' }]);
      expect(outputs[0]).toMatchObject({ guid: 'l', errorCode: '0', files: expected });
    }
    const { outputs } = await call('/v1/deploy/released-package/listCurrentDir', [{ guid: 'c', endpoint: url(`${RUN}/${APP}.tgz`), currentDir: 'app/conf' }]);
    expect(outputs[0]!['files']).toEqual([
      { name: 'app.properties', isDir: false, md5: md5Of('app/conf/app.properties') },
      { name: 'plain.yml', isDir: false, md5: md5Of('app/conf/plain.yml') },
    ]);
  });

  it('reports a file missing from the package', async () => {
    const { outputs } = await call('/saltstack/v1/released-package/getConfigFileKey', [
      { guid: 'k', endpoint: url(`${RUN}/${APP}.tgz`), filePath: 'app/conf/none.yml' },
    ]);
    expect(outputs[0]).toMatchObject({ errorCode: '1', errorType: 'E_ARTIFACT_NOT_FOUND', errorMessage: 'File app/conf/none.yml does not exist.' });
  });

  it('reports a missing directory with upstream text', async () => {
    const { outputs } = await call('/saltstack/v1/released-package/listCurrentDir', [
      { guid: 'l', endpoint: url(`${RUN}/${APP}.tgz`), currentDir: 'app/none' },
    ]);
    // upstream's errorCode for a directory the package does not have
    expect(outputs[0]).toMatchObject({ errorCode: '2', errorMessage: 'exist check error:dir(app/none) not exist ' });
  });

  it.each(['zip', 'tgz'])('lists the placeholders of one file of a %s: line, key and prefix', async (kind) => {
    const { outputs } = await call('/saltstack/v1/released-package/getConfigFileKey', [
      { guid: 'k', endpoint: url(`${RUN}/${APP}.${kind}`), filePath: '/app/conf/app.properties' },
    ]);
    expect(outputs[0]).toMatchObject({
      guid: 'k',
      errorCode: '0',
      filePath: 'app/conf/app.properties',
      configKeyInfos: [
        { line: '1', key: 'port', type: '@' },
        { line: '2', key: 'DB_HOST', type: '#' },
        { line: '3', key: 'nope', type: '@' },
        { line: '4', key: 'port', type: '@' },
      ],
    });
  });
});

describe('the npm start server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'off', LOG_LEVEL: 'debug' });
  }, 90_000);
  afterAll(async () => {
    await server.stop();
  });

  it('serves package-variable/replace at the old /v1/deploy/variable/replace path, logging no decrypted value', async () => {
    const secret = `port-${randomBytes(4).toString('hex')}`;
    const value = `${encodeCipherA('var-guid', 'srv-seed', secret)}&\x01var-guid`;
    const { status, body } = await postJson(server.url + '/v1/deploy/variable/replace', {
      inputs: [
        {
          guid: 'srv',
          seed: 'srv-seed',
          endpoint: url(`${RUN}/${APP}.tgz`),
          confFiles: 'app/bin/start.sh',
          variableList: JSON.stringify([{ key: 'port', value }]),
        },
      ],
    });
    expect(status).toBe(200);
    const out = body['results'].outputs[0];
    expect(out).toMatchObject({ guid: 'srv', errorCode: '0' });
    const dir = join(work, 'srv');
    writeFileSync(`${dir}.tgz`, await fetchObject(out.s3PkgPath));
    untar(`${dir}.tgz`, dir);
    expect(readFileSync(join(dir, 'app/bin/start.sh'), 'utf8')).toBe(`#!/bin/sh\nexec java -Dport=${secret} -jar app.jar\n`);
    expect(server.output()).toContain('package re-packed');
    expect(server.output()).not.toContain(secret);
  });
});
