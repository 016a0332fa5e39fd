import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { openZip } from '../../lib/artifacts/read-archive.js';
import { mysqlEnv, redisEnv } from '../support/databases.js';
import { projectRoot, stackEnv } from '../support/stack.js';

const run = promisify(execFile);

/** Unpacks a function zip of `serverless package` into `dir`. */
async function unpack(zipFile: string, dir: string) {
  const zip = await openZip(zipFile, zipFile);
  try {
    for (const entry of zip.entries.filter((e) => e.type === 'file')) {
      const chunks: Buffer[] = [];
      for await (const c of await zip.open(entry)) chunks.push(c as Buffer);
      mkdirSync(dirname(join(dir, entry.path)), { recursive: true });
      writeFileSync(join(dir, entry.path), Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
}

// The bundles replace two of mysql2's modules (serverless.yml esbuild alias) and import node-redis's core
// only: this runs the deployable artefacts themselves against the stack, in a plain node process.
const invoke = `
const [file, path, inputs] = process.argv.slice(1);
const { handler } = await import(file);
const event = { version: '2.0', rawPath: path, routeKey: 'POST ' + path, headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ inputs: JSON.parse(inputs) }), isBase64Encoded: false, requestContext: { http: { method: 'POST', path }, requestId: 'bundle-test' } };
const response = await handler(event, { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 30000, functionName: 'bundle-test' });
process.stdout.write('RESPONSE' + JSON.stringify(response));
process.exit(0);
`;

describe('the packaged database functions', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'db-bundles-'));
    await run(join(projectRoot, 'node_modules', '.bin', 'serverless'), ['package', '--stage', 'ci', '--package', join(dir, 'zips')], {
      cwd: projectRoot,
      timeout: 180_000,
    });
    for (const name of ['mysqlScriptRunCustomSql', 'redisUserDelete']) await unpack(join(dir, 'zips', `${name}.zip`), join(dir, name));
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const call = async (fn: string, file: string, path: string, inputs: unknown[]) => {
    const env = { ...process.env, ...stackEnv(), STAGE: 'local', AUTH_MODE: 'off', LOG_LEVEL: 'debug' };
    const { stdout, stderr } = await run(
      join(projectRoot, 'node_modules', '.bin', 'node'),
      ['--input-type=module', '-e', invoke, join(dir, fn, 'functions', file), path, JSON.stringify(inputs)],
      {
        env,
        timeout: 30_000,
      },
    );
    for (const secret of [mysqlEnv().password, redisEnv().password]) expect(stdout + stderr).not.toContain(secret);
    const response = JSON.parse(stdout.slice(stdout.lastIndexOf('RESPONSE') + 'RESPONSE'.length)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    return JSON.parse(response.body) as { results: { outputs: Array<Record<string, unknown>> } };
  };

  it('runs a query through the bundled mysql2, non-ASCII and binary values included', async () => {
    const { host, port, user, password } = mysqlEnv();
    const body = await call('mysqlScriptRunCustomSql', 'mysql-script-run-custom-sql.mjs', '/saltstack/v1/mysql-script/run-custom-sql', [
      {
        guid: 'g',
        host,
        port,
        userName: user,
        password,
        sql: "SELECT 'héllo 中文 😀' AS t, x'ff00' AS b, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'db' AND COLUMN_NAME = 'Db'",
      },
    ]);
    expect(body.results.outputs[0]).toMatchObject({ errorCode: '0', rows: [{ t: 'héllo 中文 😀', b: '0xFF00', COLUMN_NAME: 'Db' }] });
  });

  it('talks to Redis through the bundled node-redis', async () => {
    const { host, port, password } = redisEnv();
    const body = await call('redisUserDelete', 'redis-user-delete.mjs', '/saltstack/v1/redis-user/delete', [
      { guid: 'g', host, port, adminPassword: password, userGuid: 'u', userName: 'bundle-test-nobody' },
    ]);
    expect(body.results.outputs[0]).toMatchObject({ errorCode: '0', detail: 'user bundle-test-nobody does not exist, nothing to delete' });
  });
});
