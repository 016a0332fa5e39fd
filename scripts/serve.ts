/**
 * `npm start`: serves every function's real handler on http://127.0.0.1:$PORT (default 8082, or the next free
 * port when another checkout serves there) against the local stack.
 * Reads the stack's env file first; AUTH_MODE defaults to off here (local only), jwt when asked.
 * PORT, LOCAL_ALLOWED_ORIGINS and LOCAL_ALLOWED_HOSTS are read here, not in lib/config.ts: they configure
 * this dev-only server, which no deployed function runs.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { readEnvFile } from './lib/env-file.js';

/** 8082, or the next free port when another checkout's `npm start` holds it (PORT=n asks for exactly n). */
async function firstFreePort(host: string, from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}..${to} on ${host}: set PORT`);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stackEnv = readEnvFile(process.env['STACK_ENV_FILE'] ?? join(root, '.stack', 'stack.env'));
for (const [key, value] of Object.entries(stackEnv)) process.env[key] ??= value;
process.env['STAGE'] ??= 'local';
process.env['AUTH_MODE'] ??= 'off';

const host = '127.0.0.1';
const port = process.env['PORT'] ? Number(process.env['PORT']) : await firstFreePort(host, 8082, 8182);
const { parseAllowedHosts, parseAllowedOrigins } = await import('./lib/local-request-guard.js');
const allowedOrigins = parseAllowedOrigins(process.env['LOCAL_ALLOWED_ORIGINS']);
const allowedHosts = parseAllowedHosts(process.env['LOCAL_ALLOWED_HOSTS']);
// The functions read their environment on their first call (a Lambda answers a bad one with a ConfigError);
// this server builds the shared runtime at start instead, so that `npm start` refuses a bad configuration.
const { refreshRuntime } = await import('../lib/runtime.js');
await refreshRuntime();
const { startLocalServer, s3EventsPath } = await import('./lib/local-adapter.js');
const { newHookSecret } = await import('./lib/s3-hook-secret.js');
// A new secret per start: the hook file is the only place the S3 server (or anyone) can learn it.
const s3EventsSecret = newHookSecret();
const server = await startLocalServer({ functionsDir: join(root, 'functions'), host, port, allowedOrigins, allowedHosts, s3EventsSecret });
// Subscribe to the local S3 server's events (uploads of `*.release.json` start releases), as the
// deployed stack's bucket notification does for the trigger function.
const hooksDir = process.env['STACK_S3_HOOKS_DIR'];
const hookFile = hooksDir ? join(hooksDir, `serve-${process.pid}.url`) : undefined;
if (hookFile) {
  mkdirSync(hooksDir!, { recursive: true });
  // Owner-only: the URL carries the secret (the S3 server runs as the same user as this script).
  writeFileSync(hookFile, `http://${host}:${port}${s3EventsPath(s3EventsSecret)}\n`, { mode: 0o600 });
}
const auth =
  process.env['AUTH_MODE'] === 'off' ? 'AUTH_MODE=off: no authentication, local use only' : 'AUTH_MODE=jwt: Bearer token signed with JWT_SIGNING_KEY required';
const origins = allowedOrigins.length ? `browser origins allowed: ${allowedOrigins.join(', ')}` : 'requests from web pages refused';
console.log(`ready http://${host}:${port} (${auth}; ${origins})`);

const stop = () => {
  if (hookFile) rmSync(hookFile, { force: true });
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
