/**
 * `npm start`: serves every function's real handler on http://127.0.0.1:$PORT against the local stack.
 * Reads the stack's env file first; AUTH_MODE defaults to off here (local only), jwt when asked.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnvFile } from './lib/env-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stackEnv = readEnvFile(process.env['STACK_ENV_FILE'] ?? join(root, '.stack', 'stack.env'));
for (const [key, value] of Object.entries(stackEnv)) process.env[key] ??= value;
process.env['STAGE'] ??= 'local';
process.env['AUTH_MODE'] ??= 'off';

const port = Number(process.env['PORT'] ?? 8082);
const host = '127.0.0.1';
const { startLocalServer, S3_EVENTS_PATH } = await import('./lib/local-adapter.js');
const server = await startLocalServer({ functionsDir: join(root, 'functions'), host, port });
// Subscribe to the local S3 server's events (uploads of `*.release.json` start releases), as the
// deployed stack's bucket notification does for the trigger function.
const hooksDir = process.env['STACK_S3_HOOKS_DIR'];
const hookFile = hooksDir ? join(hooksDir, `serve-${process.pid}.url`) : undefined;
if (hookFile) {
  mkdirSync(hooksDir!, { recursive: true });
  writeFileSync(hookFile, `http://${host}:${port}${S3_EVENTS_PATH}\n`);
}
const auth =
  process.env['AUTH_MODE'] === 'off'
    ? 'AUTH_MODE=off: no authentication, local use only'
    : 'AUTH_MODE=jwt: Bearer token signed with JWT_SIGNING_KEY required';
console.log(`ready http://${host}:${port} (${auth})`);

const stop = () => {
  if (hookFile) rmSync(hookFile, { force: true });
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
