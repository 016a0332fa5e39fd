import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Brings the local stack to `minions` minions (ids 127.0.0.1..127.0.0.N); the benchmarks' extra hosts. */
export function stackUp(minions: number): void {
  console.log(`stack: up with ${minions} minions...`);
  execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'stack', 'cli.ts'), 'up'], {
    cwd: root,
    env: { ...process.env, STACK_MINION_COUNT: String(minions) },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 900_000,
  });
}

/** Runs `measure` with the stack at `minions` minions, and brings it back to the default 2 whatever happens. */
export async function withMinions(minions: number, measure: () => Promise<boolean>): Promise<boolean> {
  try {
    stackUp(minions);
    return await measure();
  } finally {
    stackUp(2);
  }
}
