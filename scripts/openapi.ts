/**
 * `npm run openapi`: writes openapi.json from the operations' zod schemas. The openapi function serves
 * that file (bundling every operation into one Lambda would make it the biggest of all), and a unit
 * test fails when the committed file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../lib/config.js';
import { allOperations } from '../lib/operations.js';
import { createRuntime } from '../lib/runtime.js';
import { buildOpenApi } from '../lib/wecube/openapi.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const document = buildOpenApi(allOperations(createRuntime(loadConfig({ AUTH_MODE: 'off' }))), version);
writeFileSync(join(root, 'openapi.json'), JSON.stringify(document, null, 2) + '\n');
console.log(`openapi.json: ${Object.keys(document['paths'] as object).length} paths`);
