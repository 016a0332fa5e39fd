/**
 * Runs package-variable/replace once in a fresh process and prints `{"s3PkgPath","ms","maxRssMb"}`: the
 * benchmark and the memory test read the peak RSS of exactly this work, nothing else.
 *   tsx scripts/lib/replace-once.ts '<request json>'                 against S3 (the stack's env file)
 *   tsx scripts/lib/replace-once.ts '<request json>' --local <root>  against a local directory store
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replacePackageVariables, type ReplaceRequest } from '../../lib/artifacts/package-variable-replace.js';
import { createS3Client, S3Store } from '../../lib/artifacts/s3-store.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log/logger.js';
import { readEnvFile } from './env-file.js';
import { LocalStore } from './local-store.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [json, flag, localRoot] = process.argv.slice(2);
const request = JSON.parse(json ?? '{}') as ReplaceRequest;
const env = readEnvFile(process.env['STACK_ENV_FILE'] ?? join(root, '.stack', 'stack.env'));
const local = flag === '--local' && localRoot;
const config = loadConfig({ ...env, STAGE: 'local', AUTH_MODE: 'off', ...(local && { S3_BUCKET: '' }) });
const store = local ? new LocalStore(localRoot) : new S3Store(createS3Client(config.s3));
const logger = createLogger('warn', (line) => process.stderr.write(line + '\n'));

const started = performance.now();
const result = await replacePackageVariables(request, { config, store: () => store }, { logger });
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ...result, ms: Math.round(ms), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
