import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, type Config } from '../../lib/config.js';
import { Logger } from '../../lib/log/logger.js';
import { Redactor } from '../../lib/log/redactor.js';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import { readEnvFile } from '../../scripts/lib/env-file.js';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const envFile = process.env['STACK_ENV_FILE'] ?? join(projectRoot, '.stack', 'stack.env');

/** The connection settings the stack wrote (`npm run stack -- up`). */
export function stackEnv(): Record<string, string> {
  const env = readEnvFile(envFile);
  if (!env['SALT_API_URL']) throw new Error(`no stack env at ${envFile}: run "npm run stack -- up" first`);
  return env;
}

/** Minion ids the stack started (at least 127.0.0.1 and one more). */
export const stackMinions = (): string[] => stackEnv()['STACK_MINIONS']!.split(',');

/** A config for the local stack, with optional overrides (AUTH_MODE off unless said otherwise). */
export function stackConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ STAGE: 'local', AUTH_MODE: 'off', ...stackEnv(), ...overrides });
}

/** Every log line written by the test runtimes, to grep for secrets. */
export const capturedLogs: string[] = [];

export function captureLogger(level: 'debug' | 'info' = 'debug'): Logger {
  return new Logger({ level, sink: (line) => capturedLogs.push(line), redactor: new Redactor() });
}

/** A runtime against the local stack with a capturing logger. */
export function stackRuntime(overrides: Record<string, string> = {}): Runtime {
  return createRuntime(stackConfig(overrides), captureLogger());
}

/** Runs the stack command (`npm run stack -- <args>`, e.g. restart salt-api). */
export async function stackCommand(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(join(projectRoot, 'node_modules', '.bin', 'tsx'), [join(projectRoot, 'scripts', 'stack', 'cli.ts'), ...args], {
    cwd: projectRoot,
    timeout: 180_000,
  });
  return stdout;
}
