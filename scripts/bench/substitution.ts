/**
 * Package substitution (SPEC §9): our package-variable/replace against the shell pipeline it replaces
 * (`tar xzf` + one `sed -i` pass over the conf files + `tar czf`), on the same generated ~105 MB / 2,000-file
 * tar.gz with 500 conf files, alternating rounds. Ours runs the real code path in a child process (so that
 * its peak RSS is its own) with a local-directory store, so both sides read and write local files only.
 * Targets: median time ratio ours/baseline <= 1.0, peak RSS < 256 MB, and < 256 MB on a 1 GiB package too.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseEndpoint } from '../../lib/artifacts/parse-endpoint.js';
import { createS3Client, S3Store } from '../../lib/artifacts/s3-store.js';
import { loadConfig } from '../../lib/config.js';
import { readEnvFile } from '../lib/env-file.js';
import { BENCH_VARIABLES, benchConfFiles, benchFiles, hugeFiles, packTgz, type GeneratedFile } from '../lib/package-fixtures.js';

const run$ = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = 3;
const RSS_LIMIT_MB = 256;
const cache = join(tmpdir(), 'saltstack-bench-substitution-v1');
const store = join(cache, 'store');

async function generate(path: string, files: () => GeneratedFile[]): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.part`;
  await packTgz(files(), createWriteStream(partial));
  renameSync(partial, path);
}

interface OurRun {
  s3PkgPath: string;
  ms: number;
  maxRssMb: number;
}

/** One run of the real code path in a fresh process; its output package is removed afterwards. */
async function ours(key: string, confFiles: string[], s3Endpoint?: string): Promise<OurRun> {
  const request = {
    endpoint: s3Endpoint ?? `http://local/artifacts/${key}`,
    confFiles: confFiles.join('|'),
    variableList: Object.entries(BENCH_VARIABLES)
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
  };
  const where = s3Endpoint ? [] : ['--local', store];
  const { stdout } = await run$(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts/lib/replace-once.ts'), JSON.stringify(request), ...where], {
    cwd: root,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as OurRun;
}

const outputFile = (result: OurRun) => join(store, 'artifacts', decodeURIComponent(result.s3PkgPath.slice('http://local/artifacts/'.length)));

/** The shell pipeline on the same package; returns its wall time and its work dir. */
async function baseline(pkg: string, confFiles: string[], work: string): Promise<number> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'x'), { recursive: true });
  const sed = Object.entries(BENCH_VARIABLES).flatMap(([k, v]) => ['-e', `s/\\[@${k}\\]/${v.replace(/\//g, '\\/')}/g`]);
  const started = performance.now();
  await run$('tar', ['xzf', pkg, '-C', join(work, 'x')]);
  await run$('sed', ['-i', ...sed, ...confFiles], { cwd: join(work, 'x'), maxBuffer: 1 << 20 });
  await run$('tar', ['czf', join(work, 'out.tgz'), '-C', join(work, 'x'), '.']);
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (n: number) => `${n} MB`;

export async function run(): Promise<boolean> {
  const key = 'bench/app.tgz';
  const pkg = join(store, 'artifacts', key);
  const confFiles = benchConfFiles();
  console.log(`package: ${pkg} (${benchFiles().length} files, ${confFiles.length} with placeholders; generated once, cached)`);
  await generate(pkg, benchFiles);
  const work = join(cache, 'baseline');
  const ratios: number[] = [];
  const oursMs: number[] = [];
  const baseMs: number[] = [];
  let peak = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const a = await ours(key, confFiles);
    const b = await baseline(pkg, confFiles, work);
    if (round === 1) {
      // Same result as sed on a conf file, or the comparison means nothing.
      const probe = confFiles[0]!;
      const { stdout } = await run$('tar', ['xzf', outputFile(a), '-O', probe], { maxBuffer: 1 << 24 });
      if (stdout !== readFileSync(join(work, 'x', probe), 'utf8')) throw new Error(`our ${probe} differs from sed's`);
    }
    rmSync(outputFile(a), { force: true });
    oursMs.push(a.ms);
    baseMs.push(b);
    ratios.push(a.ms / b);
    peak = Math.max(peak, a.maxRssMb);
    console.log(`  round ${round}: ours ${a.ms} ms (peak RSS ${mb(a.maxRssMb)}), shell ${Math.round(b)} ms, ratio ${(a.ms / b).toFixed(2)}`);
  }
  rmSync(work, { recursive: true, force: true });
  const ratio = median(ratios);
  console.log(
    `substitution 105 MB / 2,000 files: ours ${median(oursMs)} ms, shell ${Math.round(median(baseMs))} ms, median ratio ${ratio.toFixed(2)} (target <= 1.0)`,
  );
  console.log(`peak RSS (ours): ${mb(peak)} (target < ${RSS_LIMIT_MB} MB)`);

  const hugeKey = 'bench/huge-1g.tgz';
  await generate(join(store, 'artifacts', hugeKey), () => hugeFiles(1024 ** 3));
  const huge = await ours(hugeKey, ['big/conf/app.properties']);
  rmSync(outputFile(huge), { force: true });
  console.log(`1 GiB package: ${huge.ms} ms, peak RSS ${mb(huge.maxRssMb)} (target < ${RSS_LIMIT_MB} MB)`);
  for (const leftover of readdirSync(join(store, 'artifacts')).filter((f) => f.startsWith('.saltstack-upload'))) {
    rmSync(join(store, 'artifacts', leftover), { recursive: true, force: true });
  }
  const viaS3 = await hugeThroughS3(join(store, 'artifacts', hugeKey));
  return ratio <= 1.0 && peak < RSS_LIMIT_MB && huge.maxRssMb < RSS_LIMIT_MB && (viaS3 ?? 0) < RSS_LIMIT_MB;
}

/** The same 1 GiB package through the stack's S3 server (download, multipart upload, copy), when it is up. */
async function hugeThroughS3(file: string): Promise<number | undefined> {
  const env = readEnvFile(process.env['STACK_ENV_FILE'] ?? join(root, '.stack', 'stack.env'));
  if (!env['S3_ENDPOINT']) {
    console.log('1 GiB package via S3: skipped (no stack env)');
    return undefined;
  }
  const config = loadConfig({ ...env, STAGE: 'local', AUTH_MODE: 'off' });
  const s3 = new S3Store(createS3Client(config.s3));
  const source = parseEndpoint(`${env['S3_ENDPOINT']}/${config.s3.bucket ?? 'artifacts'}/bench/huge-1g.tgz`);
  await s3.put(source, createReadStream(file));
  const result = await ours('', ['big/conf/app.properties'], source.url);
  await s3.remove(parseEndpoint(result.s3PkgPath));
  await s3.remove(source);
  console.log(`1 GiB package via the S3 server: ${result.ms} ms, peak RSS ${mb(result.maxRssMb)} (target < ${RSS_LIMIT_MB} MB)`);
  return result.maxRssMb;
}
