/**
 * `npm run bench`: every benchmark in scripts/bench/*.ts, each reporting ratios against a baseline run
 * side by side in the same process (the machine is shared and noisy: absolute times mean little).
 * `npm run bench -- <name>` runs only the benchmarks whose file name contains <name>.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => !filter || f.includes(filter))
  .sort();
let failed = false;
for (const file of files) {
  console.log(`== ${file.replace(/\.ts$/, '')}`);
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run: () => Promise<boolean | void> };
  if ((await mod.run()) === false) failed = true;
}
process.exit(failed ? 1 : 0);
