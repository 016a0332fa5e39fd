/**
 * Server mode: the production entry of a WeCube plugin host (the image's ENTRYPOINT, bundled to
 * `.build/server/server.mjs`). Serves every operation's deployed handler on SERVER_HOST:SERVER_PORT
 * (0.0.0.0:8082, upstream's port), JWT required, configured from the environment WeCube passes (its
 * upstream names and rsa@ values are read by loadConfig through lib/wecube-environment.ts), GET /healthz
 * without auth, JSON log lines on stdout. SIGTERM (docker stop) drains the requests in flight.
 */
import { ConfigError, SecretsError } from '../errors.js';
import { refreshRuntime, type Runtime } from '../runtime.js';
import { FUNCTION_LOADERS } from '../router/function-loaders.js';
import { lazyRouteTable } from '../router/lazy-route-table.js';
import { createHttpServer, drain, listen, sendJson } from './http-server.js';
import { checkServerAuth } from './server-auth.js';

export const HEALTH_PATH = '/healthz';

async function startUp(): Promise<Runtime> {
  try {
    // The functions read their environment (and SECRETS_ID) on their first call; the server reads it now, so
    // that a bad configuration stops the container at start (WeCube shows it) instead of failing every request.
    const runtime = await refreshRuntime();
    const warning = checkServerAuth(runtime.config);
    if (warning) runtime.logger.warn(warning);
    return runtime;
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof SecretsError)) throw error;
    // No logger without a config: the one line a failed start prints, on stderr.
    process.stderr.write(`server not started: ${error.message}\n`);
    process.exit(1);
  }
}

const runtime = await startUp();
const { logger, config } = runtime;
// The router's table (generated from the registry, literal imports: the bundler sees every module), each
// operation's module loaded on its route's first call.
const routes = lazyRouteTable(FUNCTION_LOADERS);
const server = createHttpServer({
  routes,
  // Liveness for the container platform, before any auth: it says nothing but whether the process serves
  // (503 once stopping, so that no new work is sent during the drain).
  intercept: (req, res, url) => {
    if (url.pathname !== HEALTH_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return {};
    sendJson(res, server.listening ? 200 : 503, { status: server.listening ? 'ok' : 'stopping' });
    return { answered: true };
  },
  onError: (error, requestId) => logger.error('request failed outside its handler', { requestId, error }),
});

try {
  const address = await listen(server, config.server.port, config.server.host);
  logger.info('server listening', {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    authMode: config.authMode,
    saltApi: config.salt.url,
    operations: routes.operations.length,
  });
} catch (error) {
  process.stderr.write(`server not started: cannot listen on ${config.server.host}:${config.server.port}: ${(error as Error).message}\n`);
  process.exit(1);
}

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info('server stopping', { signal, graceS: config.server.shutdownGraceS });
  const drained = await drain(server, config.server.shutdownGraceS * 1000);
  if (!drained) logger.warn('requests still running when the shutdown grace ran out: their connections were cut', { graceS: config.server.shutdownGraceS });
  process.exit(drained ? 0 : 1);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
