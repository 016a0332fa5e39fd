/**
 * Secrets stay secret end to end (SPEC §10): a release and an apply-deployment run with known, distinctive
 * secrets (a password given {cipher_a}-encrypted, a seed, an encrypted variable, a plain variable under a
 * secret name), plus requests whose variableList is malformed around a secret. First it is proven that the
 * secrets were really used (the user's shadow hash verifies, the variables reached the host's conf file);
 * then everything left behind is searched for each secret and its encoded forms: the local Step Functions
 * history, every object of the stack's bucket, the HTTP and release/status replies, the captured logs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { encodeCipherA } from '../../lib/crypto/cipher-a.js';
import type { LocalStepFunctions } from '../../lib/releases/local-step-functions.js';
import { releaseStart, releaseStatus } from '../../lib/releases/release-api.js';
import { releaseStoreOf } from '../../lib/releases/release-store.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { exitCode, run, s3, uniqueName } from '../support/hosts.js';
import { appStatus, buildReleaseApp, hostPath } from '../support/release-app.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackConfig, stackEnv, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime({ RELEASE_RUNNER: 'local', RELEASE_POLL_SECONDS: '1' });
const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };
const [m0] = stackMinions() as [string, string];
const bucket = stackEnv()['S3_BUCKET']!;
const apps = stackEnv()['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
const store = s3();
const tag = uniqueName('');

// Distinctive secrets, with characters whose URL/base64/hex encodings differ from the text.
const SEED = `Seed+${tag}/sx`;
const RELEASE_PASSWORD = `RelPw+${tag}/pw!`;
const RELEASE_VARIABLE = `RelVar+${tag}/v@`;
const DEPLOY_PASSWORD = `DepPw+${tag}/pw!`;
const DEPLOY_VARIABLE = `DepVar+${tag}/v@`;
const DEPLOY_PLAIN_SECRET = `DepPlain+${tag}/p`;
const MALFORMED_SECRET = `Broken+${tag}/b`;
const MALFORMED_JSON_SECRET = `BrokenJson+${tag}/j`;

const name = uniqueName('sec');
const releaseUser = uniqueName('secr');
const deployUser = uniqueName('secd');
/** The user of the refused item (apply-deployment creates users first; one name twice in a request would race). */
const refusedUser = uniqueName('secb');
const releaseDest = `${apps}/${name}/`;
const deployRoot = `/tmp/${name}`;
const deployDir = `${deployRoot}/app`;
const keys: string[] = [];

/** Every form a secret could be stored or sent in: as is, JSON-escaped, URL-encoded, base64, hex. */
const formsOf = (secret: string): string[] => [
  ...new Set([
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('hex'),
  ]),
];

/** The secrets (every form) found in a text, as `<secret> as <form>`; none expected. */
function leaks(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) for (const form of formsOf(secret)) if (text.includes(form)) found.push(`${secret} as ${form}`);
  return found;
}

/** Whether `password` logs `user` in: its shadow hash recomputed with openssl from the same salt. */
function passwordWorks(user: string, password: string): boolean {
  const hash = run('getent', ['shadow', user]).split(':')[1]!;
  const [, scheme, salt] = hash.split('$');
  expect(scheme).toBe('6');
  return run('openssl', ['passwd', '-6', '-salt', salt!, '-stdin'], password + '\n').trim() === hash;
}

/** The apply-deployment package: a start script that succeeds, a conf file with a secret of each kind. */
async function deployPackage(): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  const entries = [
    { name: 'bin/start.sh', body: '#!/bin/sh\necho started\n', mode: 0o755 },
    { name: 'conf/app.properties', body: 'token=[@token]\ndb_password=[@db_password]\nport=[@port]\n', mode: 0o644 },
  ];
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, mode: e.mode }, e.body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** Every object of the bucket (all pages), its content; gzip content also unpacked (packages hold conf files). */
async function bucketObjects(): Promise<Array<{ key: string; text: string }>> {
  const config = stackConfig();
  const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ region: config.s3.region, endpoint: config.s3.endpoint!, forcePathStyle: true, credentials: config.s3.credentials! });
  const objects: Array<{ key: string; text: string }> = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        let data: Buffer;
        try {
          const { body } = await store.store.get({ bucket, key: o.Key!, url: o.Key! });
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c as Buffer);
          data = Buffer.concat(chunks);
        } catch {
          continue; // removed meanwhile (another test's object)
        }
        let text = data.toString('latin1');
        if (data[0] === 0x1f && data[1] === 0x8b) {
          try {
            text += gunzipSync(data).toString('latin1');
          } catch {
            // not whole gzip: the raw bytes were searched
          }
        }
        objects.push({ key: o.Key!, text });
      }
      token = page.NextContinuationToken;
    } while (token);
  } finally {
    client.destroy();
  }
  return objects;
}

let server: RunningServer;
const replies: string[] = [];
const histories: string[] = [];
let repackedDeployKey = '';

beforeAll(async () => {
  server = await startServer();
  mkdirSync(deployRoot, { recursive: true });
  const appKey = `secrets-test/${name}/app-1.0.tgz`;
  const deployKey = `secrets-test/${name}/dep-1.0.tgz`;
  keys.push(appKey, deployKey);
  await store.put(bucket, appKey, await buildReleaseApp('1.0'));
  await store.put(bucket, deployKey, await deployPackage());
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rt
    .salt()
    .local({
      fun: 'cmd.run_all',
      arg: [['sh', '-c', 'test -x "$1" && "$1"; true', 'stop', `${releaseDest}bin/stop.sh`]],
      kwarg: { python_shell: false, runas: releaseUser },
      tgt: [m0],
      timeout: 20,
    })
    .catch(() => undefined);
  await rt
    .salt()
    .local({ fun: 'file.remove', arg: [releaseDest.replace(/\/$/, '')], tgt: [m0], timeout: 20 })
    .catch(() => undefined);
  rmSync(deployRoot, { recursive: true, force: true });
  for (const u of [releaseUser, deployUser, refusedUser]) exitCode('userdel', ['-rf', u]);
  for (const key of [...keys, repackedDeployKey].filter(Boolean)) await store.remove(bucket, key);
});

/** Runs a release in-process and waits for its end: the start reply, the end, the status reply, the history. */
async function runRelease(fields: Record<string, unknown>) {
  const [started] = await runOperation(releaseStart(rt), [fields], ctx);
  replies.push(JSON.stringify(started));
  expect(started).toMatchObject({ errorCode: '0' });
  const { port } = await rt.releaseRunner();
  const local = port as LocalStepFunctions;
  const arn = String(started!['executionArn']);
  const end = await local.settled(arn);
  const [status] = await runOperation(releaseStatus(rt), [{ releaseId: started!['releaseId'] }], ctx);
  replies.push(JSON.stringify(status), JSON.stringify(end));
  const history = JSON.stringify(local.history(arn));
  histories.push(history);
  return { id: String(started!['releaseId']), end, status: status as Out, history };
}

describe('secrets stay secret end to end', () => {
  const releaseGuid = `g-${tag}`;
  const release = (variableList: string) => ({
    guid: releaseGuid,
    name,
    endpoint: store.url(bucket, `secrets-test/${name}/app-1.0.tgz`),
    confFiles: 'conf/app.properties',
    variableList,
    seed: SEED,
    password: encodeCipherA(releaseGuid, SEED, RELEASE_PASSWORD),
    destinationPath: releaseDest,
    userName: `${releaseUser}:${releaseUser}`,
    startScript: 'bin/start.sh',
    stopScript: 'bin/stop.sh',
    healthScript: 'bin/health.sh',
    targets: [m0],
  });

  it('a release uses its secrets on the host, and its records, history and status keep none of them', async () => {
    const greeting = `${encodeCipherA('g-var', SEED, RELEASE_VARIABLE)}&\x01g-var`;
    const { id, end, status, history } = await runRelease(release(`app_version=conf-1, greeting=${greeting}`));
    expect(end.status).toBe('SUCCEEDED');
    expect(status).toMatchObject({ status: 'SUCCEEDED', result: 'SUCCEEDED' });
    // the secrets were used: the password logs the user in, the decrypted variable is in the host's conf file
    expect(passwordWorks(releaseUser, RELEASE_PASSWORD)).toBe(true);
    expect((await appStatus(m0, releaseDest))?.conf).toContain(`greeting=${RELEASE_VARIABLE}`);
    expect(readFileSync(hostPath(m0, `${releaseDest}conf/app.properties`), 'utf8')).toContain(RELEASE_VARIABLE);

    const all = [SEED, RELEASE_PASSWORD, RELEASE_VARIABLE, greeting.split('&')[0]!, encodeCipherA(releaseGuid, SEED, RELEASE_PASSWORD)];
    expect(leaks(history, all)).toEqual([]);
    expect(history).toContain('"ExecutionSucceeded"'); // the history is the whole run

    // the request record is kept, encrypted and without its secrets; the other records never had them
    const records = releaseStoreOf(rt);
    const request = (await records.getJson<Out>(records.requestRef(id)))!;
    expect(request).toMatchObject({ destinationPath: releaseDest, secretsRemoved: ['password', 'seed', 'variableList'] });
    const left = (await bucketObjects()).filter((o) => o.key.includes(id));
    expect(left.map((o) => o.key.slice(o.key.indexOf(id) + id.length))).toEqual(expect.arrayContaining(['/request.json', '/release.json', '/result.json']));
    expect(left.flatMap((o) => leaks(o.text, all).map((l) => `${o.key}: ${l}`))).toEqual([]);
  });

  it('a release refused for a malformed variableList names the position and key, never the secret', async () => {
    const { id, end, status, history } = await runRelease(release(`app_version=conf-1, db_password=${MALFORMED_SECRET},tail, greeting=x`));
    expect(end).toMatchObject({ status: 'FAILED', error: 'ReleaseRefused' });
    expect(status).toMatchObject({ result: 'PREPARE_FAILED' });
    expect(String(status['summary'])).toMatch(/variableList format error at character \d+ \(after key "db_password"\)/);
    const records = releaseStoreOf(rt);
    expect(await records.getJson<Out>(records.requestRef(id))).toMatchObject({ secretsRemoved: ['password', 'seed', 'variableList'] });
    const secrets = [MALFORMED_SECRET, 'tail, greeting', SEED, RELEASE_PASSWORD];
    expect(leaks(history + JSON.stringify(status) + JSON.stringify(end), secrets)).toEqual([]);
  });

  it('apply-deployment over HTTP uses its secrets on the host and replies none of them; a malformed list is refused without quoting it', async () => {
    const guid = `d-${tag}`;
    const item = {
      guid,
      target: m0,
      endpoint: store.url(bucket, `secrets-test/${name}/dep-1.0.tgz`),
      userName: `${deployUser}:${deployUser}`,
      password: encodeCipherA(guid, SEED, DEPLOY_PASSWORD),
      seed: SEED,
      startScript: 'bin/start.sh',
      destinationPath: deployDir,
      confFiles: 'conf/app.properties',
      variableList: `port=8080, db_password=${DEPLOY_PLAIN_SECRET}, token=${encodeCipherA('g-tok', SEED, DEPLOY_VARIABLE)}&\x01g-tok`,
    };
    const badList = JSON.stringify([{ key: 'port', value: '1' }]).slice(0, -1) + `,{"key":"db_password","value":${MALFORMED_JSON_SECRET}}]`;
    const bad = {
      ...item,
      guid: `${guid}-bad`,
      userName: `${refusedUser}:${refusedUser}`,
      password: encodeCipherA(`${guid}-bad`, SEED, DEPLOY_PASSWORD),
      variableList: badList,
      destinationPath: `${deployRoot}/bad/app`,
    };
    const { status, body } = await postJson(`${server.url}/saltstack/v1/apply-deployment/new`, { inputs: [item, bad] });
    replies.push(JSON.stringify(body));
    expect(status).toBe(200);
    const [good, refused] = body['results']['outputs'] as Out[];
    expect(good).toMatchObject({ errorCode: '0' });
    expect(refused!['errorCode']).toBe('1');
    expect(refused!['errorMessage']).toMatch(/variableList json unmarshal fail,at character \d+ \(element 2, key "db_password"\): a value was expected/);
    // used: the password logs the user in; both variables reached the host's conf file
    expect(passwordWorks(deployUser, DEPLOY_PASSWORD)).toBe(true);
    const conf = readFileSync(`${deployDir}/conf/app.properties`, 'utf8');
    expect(conf).toContain(`token=${DEPLOY_VARIABLE}`);
    expect(conf).toContain(`db_password=${DEPLOY_PLAIN_SECRET}`);
    // The re-packed package is apply-deployment's output (s3PkgPath): it holds the substituted values by
    // contract, and is the caller's to remove. Proven here to hold them (so the bucket search below can see them).
    const path = String(good!['s3PkgPath']);
    repackedDeployKey = decodeURIComponent(path.slice(path.indexOf(`/${bucket}/`) + bucket.length + 2));
    const repacked = (await bucketObjects()).find((o) => o.key === repackedDeployKey);
    expect(repacked && leaks(repacked.text, [DEPLOY_VARIABLE])).toEqual([`${DEPLOY_VARIABLE} as ${DEPLOY_VARIABLE}`]);

    // a request body cut inside a password: the reply says where, not what
    const cut = await postJson(`${server.url}/saltstack/v1/apply-deployment/new`, `{"inputs":[{"password":"${MALFORMED_JSON_SECRET}`).catch((e: unknown) => ({
      status: 0,
      body: { error: String(e) },
    }));
    replies.push(JSON.stringify(cut.body));
    expect(JSON.stringify(cut.body)).toMatch(/not valid JSON: at character \d+/);
  });

  it('leaves no secret in any reply, any object of the bucket or any log line', async () => {
    const all = [SEED, RELEASE_PASSWORD, RELEASE_VARIABLE, DEPLOY_PASSWORD, DEPLOY_VARIABLE, DEPLOY_PLAIN_SECRET, MALFORMED_SECRET, MALFORMED_JSON_SECRET];
    expect(histories.length).toBe(2);
    expect(leaks(histories.join('\n'), all)).toEqual([]);
    expect(leaks(replies.join('\n'), all)).toEqual([]);
    const objects = (await bucketObjects()).filter((o) => o.key !== repackedDeployKey);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.flatMap((o) => leaks(o.text, all).map((l) => `${o.key}: ${l}`))).toEqual([]);
    const logs = capturedLogs.join('\n') + '\n' + server.output();
    expect(logs).toContain('release finished'); // the logs searched are the ones the runs wrote
    expect(logs).toContain(deployUser);
    expect(leaks(logs, all)).toEqual([]);
  });
});
