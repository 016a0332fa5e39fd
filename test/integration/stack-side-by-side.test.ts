/**
 * Two checkouts on one machine: a second stack (its own STACK_DIR, as a second clone has) comes up beside
 * this one on other ports, serves its own salt-master and minion, and leaves this stack running; two
 * `npm start` servers without PORT take different ports. The second stack shares this one's venv
 * (STACK_VENV) only to save the pip install.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../lib/config.js';
import { createRuntime } from '../../lib/runtime.js';
import { readEnvFile } from '../../scripts/lib/env-file.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { captureLogger, projectRoot, stackCommand, stackEnv } from '../support/stack.js';

const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx');
const cli = join(projectRoot, 'scripts', 'stack', 'cli.ts');
const PORT_KEYS = [
  'SALT_API_URL',
  'S3_ENDPOINT',
  'MYSQL_PORT',
  'REDIS_PORT',
  'REDIS_TLS_PORT',
  'SSH_PORT',
  'AGENT_MINION_MASTER_PORT',
  'AGENT_MINION_PUBLISH_PORT',
];
const portOf = (env: Record<string, string>, key: string) => Number(/(\d+)$/.exec(env[key]!)![1]);

describe('a second checkout’s stack beside this one', () => {
  const main = stackEnv();
  let dir: string;
  let second: Record<string, string>;
  const other = (...args: string[]) =>
    promisify(execFile)(tsx, [cli, ...args], {
      cwd: projectRoot,
      timeout: 300_000,
      env: { ...process.env, STACK_DIR: dir, STACK_VENV: main['SALT_VENV']!, STACK_MINION_COUNT: '1' },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'second-checkout-stack-'));
    await other('up');
    second = readEnvFile(join(dir, 'stack.env'));
  }, 300_000);
  afterAll(async () => {
    await other('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('comes up on ports of its own, every one different from this stack’s', () => {
    const mine = PORT_KEYS.map((k) => portOf(main, k));
    const theirs = PORT_KEYS.map((k) => portOf(second, k));
    for (const port of theirs) expect(mine).not.toContain(port);
    expect(new Set(theirs).size).toBe(PORT_KEYS.length);
    expect(second['STACK_DIR']).toBe(dir);
    expect(second['SALT_API_PASSWORD']).not.toBe(main['SALT_API_PASSWORD']);
  });

  it('runs salt jobs on its own minion through its own salt-api', async () => {
    const rt = createRuntime(loadConfig({ STAGE: 'local', AUTH_MODE: 'off', ...second }), captureLogger());
    const out = await rt.salt().local({ fun: 'test.echo', tgt: ['127.0.0.1'], arg: ['second stack'], timeout: 20 });
    expect(out[0]).toMatchObject({ ok: true, ret: 'second stack' });
    // its master accepted its own minion only; this stack's master still has its own keys
    expect(readdirSync(join(dir, 'salt', 'master', 'pki', 'minions'))).toEqual(['127.0.0.1']);
    expect(existsSync(join(main['STACK_DIR']!, 'salt', 'master', 'pki', 'minions', '127.0.0.2'))).toBe(true);
  });

  it('leaves this stack up and answering', async () => {
    const status = await stackCommand('status');
    expect(status).not.toMatch(/: down/);
    expect(status).toMatch(/minion:127\.0\.0\.2: up \(pid \d+, test\.ping true\)/);
  }, 60_000);

  it('a second up of the other stack keeps its ports and restarts nothing', async () => {
    const { stdout } = await other('up');
    expect(stdout).not.toMatch(/stopping|started|ports:/);
    expect(readEnvFile(join(dir, 'stack.env'))).toEqual(second);
  }, 120_000);

  it('two npm start servers without PORT take different ports, each on its own stack', async () => {
    const servers: RunningServer[] = [];
    try {
      servers.push(await startServer({ PORT: '' }));
      servers.push(await startServer({ PORT: '', STACK_ENV_FILE: join(dir, 'stack.env') }));
      const [a, b] = servers.map((s) => new URL(s.url).port);
      expect(a).not.toBe(b);
      for (const s of servers) {
        const { status, body } = await postJson(`${s.url}/saltstack/v1/password/encode`, { inputs: [{ guid: 'g', seed: 'abc12345', password: 'x' }] });
        expect(status).toBe(200);
        expect((body as { resultCode: string }).resultCode).toBe('0');
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 120_000);
});
