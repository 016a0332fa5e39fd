/**
 * Per-request overhead (SPEC §9: under 20 ms median): the same test.ping lowstate sent directly to
 * salt-api with the salt client, and through the plugin (HTTP server -> handler -> validation -> salt
 * client -> envelope) via salt-api/call, alternated in one run.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '../lib/env-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = 40;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function run(): Promise<boolean> {
  const env = readEnvFile(join(root, '.stack', 'stack.env'));
  Object.assign(process.env, env, { STAGE: 'local', AUTH_MODE: 'off', SALT_API_CALL_ENABLED: 'true', LOG_LEVEL: 'warn' });
  const { startLocalServer } = await import('../lib/local-adapter.js');
  const { getRuntime } = await import('../../lib/runtime.js');
  const server = await startLocalServer({ functionsDir: join(root, 'functions'), host: '127.0.0.1', port: 0 });
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}/saltstack/v1/salt-api/call`;
  const salt = getRuntime().salt();
  const target = env['STACK_MINIONS']!.split(',')[0]!;
  const chunk = { client: 'local' as const, fun: 'test.ping', tgt: [target], tgt_type: 'list' as const, full_return: true };
  const body = JSON.stringify({ inputs: [{ guid: 'b', client: 'local', target, function: 'test.ping' }] });

  const direct: number[] = [];
  const plugin: number[] = [];
  await salt.lowstate([chunk]); // log in once for both
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    await salt.lowstate([chunk]);
    direct.push(performance.now() - t);
    t = performance.now();
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const json = (await response.json()) as { resultCode: string };
    if (json.resultCode !== '0') throw new Error(`plugin call failed: ${JSON.stringify(json)}`);
    plugin.push(performance.now() - t);
  }
  server.close();
  const overhead = median(plugin) - median(direct);
  console.log(`direct salt-api median ${median(direct).toFixed(1)} ms, through the plugin ${median(plugin).toFixed(1)} ms`);
  console.log(`per-request overhead (median difference, ${ROUNDS} alternated rounds): ${overhead.toFixed(1)} ms (target < 20 ms)`);
  return overhead < 20;
}
