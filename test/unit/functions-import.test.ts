/**
 * Every functions/*.ts loads with an invalid environment (no config is read at import), still exports its
 * operation's schemas, and answers its first call with the ConfigError: the HTTP handler with the 502
 * envelope, the task and release handlers by rejecting with it. Run in a child process (node --import tsx)
 * whose environment holds nothing but an invalid variable: the test's own environment and module cache
 * stay out of it.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const files = readdirSync(join(ROOT, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .sort();

interface Report {
  loaded: Record<string, { exports: string[]; operation?: { plugin: string; action: string; summary: string; schemas: boolean } }>;
  failedToLoad: Record<string, string>;
  http: Record<string, { statusCode?: number; body?: { resultCode?: string; resultMessage?: string } }>;
  calls: Record<string, string>;
}

/** Imports every function in a child with `env`, then calls each handler once; what happened, as JSON. */
function probe(env: Record<string, string>): Report {
  const script = `
    const files = ${JSON.stringify(files)};
    const dir = ${JSON.stringify(pathToFileURL(join(ROOT, 'functions')).href)};
    const report = { loaded: {}, failedToLoad: {}, http: {}, calls: {} };
    const modules = {};
    for (const file of files) {
      try {
        const m = await import(dir + '/' + file);
        modules[file] = m;
        const op = m.operation;
        report.loaded[file] = {
          exports: Object.keys(m).sort(),
          ...(op && { operation: { plugin: op.plugin, action: op.action, summary: op.summary, schemas: typeof op.input?.safeParse === 'function' && typeof op.output?.safeParse === 'function' } }),
        };
      } catch (error) {
        report.failedToLoad[file] = String(error?.name) + ': ' + String(error?.message);
      }
    }
    const said = (error) => String(error?.name) + ': ' + String(error?.message);
    for (const [file, m] of Object.entries(modules)) {
      if (file === 'openapi.ts') continue;
      if (file === 'router.ts') {
        // the Function URL router: its first call reaches an operation's handler, which reads the config
        const event = { rawPath: '/saltstack/v1/password/encode', headers: {}, body: JSON.stringify({ inputs: [{}] }), requestContext: { requestId: 'r1', http: { method: 'POST' } } };
        const res = await m.handler(event, { awsRequestId: 'r1' });
        report.http[file] = { statusCode: res.statusCode, body: JSON.parse(res.body) };
        continue;
      }
      if (m.operation) {
        const event = { rawPath: '/saltstack/v1/' + m.operation.plugin + '/' + m.operation.action, headers: {}, body: JSON.stringify({ inputs: [{}] }), requestContext: { requestId: 'r1' } };
        const res = await m.handler(event, { awsRequestId: 'r1' });
        report.http[file] = { statusCode: res.statusCode, body: JSON.parse(res.body) };
        report.calls[file + ' task'] = await m.task({ inputs: [{}] }).then(() => 'answered', said);
      } else {
        report.calls[file] = await m.handler({ release: { id: 'r' }, Records: [] }).then(() => 'answered', said);
      }
    }
    process.stdout.write('\\nREPORT ' + JSON.stringify(report) + '\\n');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 170_000,
  });
  if (child.status !== 0) throw new Error(`probe failed (${child.status}): ${child.stderr.slice(-2000)}`);
  // the handlers log to stdout too (the failed first calls): the report is the line marked REPORT
  const line = child.stdout.split('\n').find((l) => l.startsWith('REPORT '));
  if (!line) throw new Error(`probe printed no report: ${child.stdout.slice(-2000)}`);
  return JSON.parse(line.slice('REPORT '.length)) as Report;
}

describe('functions/*.ts with an invalid environment', () => {
  // PATH only, and one variable loadConfig refuses: any read of the config throws ConfigError naming it.
  const report = (() => {
    let cached: Report | undefined;
    return () => (cached ??= probe({ PATH: process.env['PATH'] ?? '', API_CONCURRENT_NUM: 'many' }));
  })();

  it('loads every function (no config is read at import)', () => {
    expect(report().failedToLoad).toEqual({});
    expect(Object.keys(report().loaded).sort()).toEqual(files);
  }, 180_000);

  it.each(files.filter((f) => (f !== 'openapi.ts' && f !== 'router.ts' && !f.startsWith('release-')) || f === 'release-start.ts' || f === 'release-status.ts'))(
    '%s exports operation (plugin, action, summary, schemas), handler and task',
    (file) => {
      const loaded = report().loaded[file]!;
      expect(loaded.exports).toEqual(expect.arrayContaining(['handler', 'operation', 'task']));
      expect(loaded.operation).toEqual({ plugin: expect.any(String), action: expect.any(String), summary: expect.any(String), schemas: true });
      expect(file).toBe(`${loaded.operation!.plugin}-${loaded.operation!.action}.ts`);
    },
  );

  it('answers the first HTTP call of every operation (and of the router) with the ConfigError envelope (502, naming the variable)', () => {
    const http = report().http;
    expect(Object.keys(http).length).toBeGreaterThan(30);
    expect(Object.keys(http)).toContain('router.ts');
    for (const [file, res] of Object.entries(http)) {
      expect([file, res.statusCode, res.body?.resultCode]).toEqual([file, 502, '1']);
      expect([file, res.body?.resultMessage]).toEqual([file, expect.stringMatching(/API_CONCURRENT_NUM/)]);
    }
  });

  it('rejects the first task call, release task and S3 trigger call with the ConfigError', () => {
    const calls = report().calls;
    expect(Object.keys(calls)).toEqual(
      expect.arrayContaining([
        'release-prepare.ts',
        'release-host-step.ts',
        'release-advance.ts',
        'release-finish.ts',
        'release-trigger.ts',
        'password-encode.ts task',
      ]),
    );
    for (const [call, outcome] of Object.entries(calls)) {
      expect([call, outcome]).toEqual([call, expect.stringMatching(/^ConfigError: .*API_CONCURRENT_NUM/)]);
    }
  });
});

describe('functions/*.ts with SECRETS_ID whose Secrets Manager cannot be reached', () => {
  const ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:saltstack-plugin-probe-Ab12Cd';
  // As on Lambda: the SDK takes the role's credentials from AWS_* (here fake ones); port 9 refuses connections.
  const report = (() => {
    let cached: Report | undefined;
    return () =>
      (cached ??= probe({
        PATH: process.env['PATH'] ?? '',
        SECRETS_ID: ARN,
        SECRETS_ENDPOINT: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'AKIDPROBE',
        AWS_SECRET_ACCESS_KEY: 'probe-secret',
        AWS_EC2_METADATA_DISABLED: 'true',
      }));
  })();
  const refused = `Secrets Manager refused to read the secret ${ARN} (ECONNREFUSED)`;

  it('loads every function without asking for the secret (nothing is fetched at import)', () => {
    expect(report().failedToLoad).toEqual({});
    expect(Object.keys(report().loaded).sort()).toEqual(files);
  }, 180_000);

  it('answers the first HTTP call of every operation (and of the router) with 502 naming the secret and the error code', () => {
    const http = report().http;
    expect(Object.keys(http).length).toBeGreaterThan(30);
    for (const [file, res] of Object.entries(http)) {
      expect([file, res.statusCode, res.body?.resultMessage]).toEqual([file, 502, expect.stringContaining(refused)]);
    }
  });

  it('rejects the first task call, release task and S3 trigger call with the SecretsError', () => {
    const calls = report().calls;
    expect(Object.keys(calls)).toEqual(expect.arrayContaining(['release-prepare.ts', 'release-trigger.ts', 'password-encode.ts task']));
    for (const [call, outcome] of Object.entries(calls)) expect([call, outcome]).toEqual([call, expect.stringContaining(`SecretsError: ${refused}`)]);
  });
});
