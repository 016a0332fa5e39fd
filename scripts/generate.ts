/**
 * `npm run generate`: writes what is derived from the operation registry (lib/registry.ts) and the
 * operations' schemas: serverless/functions.yml, serverless/roles.yml, openapi.json and the router's loaders
 * (lib/router/function-loaders.ts). Unit tests fail when any is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../lib/config.js';
import { createRuntime } from '../lib/runtime.js';
import { operationsFor } from './lib/load-operations.js';
import { routerLoaders } from './lib/router-loaders.js';
import { serverlessFunctions, serverlessRoles } from './lib/serverless-functions.js';
import { buildOpenApi } from '../lib/wecube/openapi.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'serverless', 'functions.yml'), serverlessFunctions());
writeFileSync(join(root, 'serverless', 'roles.yml'), serverlessRoles());
writeFileSync(join(root, 'lib', 'router', 'function-loaders.ts'), routerLoaders());
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
// The document describes the defaults: the operations over the default (local) configuration.
const document = buildOpenApi(await operationsFor(createRuntime(loadConfig({ AUTH_MODE: 'off' }))), version);
writeFileSync(join(root, 'openapi.json'), JSON.stringify(document, null, 2) + '\n');
console.log(
  `serverless/functions.yml, serverless/roles.yml, lib/router/function-loaders.ts, openapi.json: ${Object.keys(document['paths'] as object).length} paths`,
);
