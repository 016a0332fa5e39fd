/**
 * The registry (lib/registry.ts) is the one list of what the plugin deploys: this test adds nothing by
 * hand. It walks the registry and shows that every entry has its function file, its serverless
 * declaration, its routes and its OpenAPI paths, and that nothing else exists.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { currentPath, functionFile, functionName, OPERATIONS, REGISTRY } from '../../lib/registry.js';
import { resolveRoute } from '../../lib/wecube/routes.js';
import { loadOperations } from '../../scripts/lib/load-operations.js';
import { needsOf, roleOf, serverlessFunctions, serverlessRoles } from '../../scripts/lib/serverless-functions.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ops = await loadOperations();

interface Declared {
  handler: string;
  role: string;
  url?: unknown;
  vpc?: string;
  timeout?: number;
  reservedConcurrency?: string;
  events?: Array<{ httpApi?: { method: string; path: string }; s3?: unknown }>;
}
const declared = parse(readFileSync(join(ROOT, 'serverless', 'functions.yml'), 'utf8')) as Record<string, Declared>;
const openapi = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as { paths: Record<string, unknown> };

describe('the registry', () => {
  it('names each operation and each function once', () => {
    const keys = OPERATIONS.map((o) => `${o.plugin}/${o.action}`);
    expect(new Set(keys).size).toBe(keys.length);
    const names = REGISTRY.map(functionName);
    expect(new Set(names).size).toBe(names.length);
    const aliases = OPERATIONS.flatMap((o) => o.aliases);
    expect(new Set(aliases).size).toBe(aliases.length);
  });

  it('has a functions/ file for every entry, and no other function file exists', () => {
    const files = readdirSync(join(ROOT, 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual(REGISTRY.map(functionFile).sort());
  });

  it.each(OPERATIONS.map((o, i) => [`${o.plugin}/${o.action}`, i]))('%s: its function file exports that very operation', (_name, i) => {
    const entry = OPERATIONS[i as number]!;
    expect({ plugin: ops[i as number]!.plugin, action: ops[i as number]!.action }).toEqual({ plugin: entry.plugin, action: entry.action });
  });
});

describe('serverless/functions.yml', () => {
  it('is what `npm run generate` writes from the registry', () => {
    expect(readFileSync(join(ROOT, 'serverless', 'functions.yml'), 'utf8')).toBe(serverlessFunctions());
  });

  it("declares exactly the registry's functions", () => {
    expect(Object.keys(declared).sort()).toEqual(REGISTRY.map(functionName).sort());
  });

  it.each(OPERATIONS.map((o) => [`${o.plugin}/${o.action}`, o] as const))(
    '%s: its routes, no Function URL of its own, reserved concurrency',
    (_name, entry) => {
      const fn = declared[functionName(entry)]!;
      expect(fn.handler).toBe(`functions/${functionFile(entry)}.handler`);
      expect(fn.events!.map((e) => e.httpApi)).toEqual([currentPath(entry), ...entry.aliases].map((path) => ({ method: 'POST', path })));
      // the router's one URL serves it (issue 14: no public URL where one serves)
      expect(fn.url).toBeUndefined();
      expect(fn.reservedConcurrency !== undefined).toBe(entry.salt);
    },
  );

  it('gives the router, and nothing else, a Function URL: 900 s, salt-bounded, no HTTP API event', () => {
    const withUrl = Object.entries(declared).filter(([, fn]) => fn.url !== undefined);
    expect(withUrl.map(([name]) => name)).toEqual(['router']);
    const router = declared['router']!;
    expect(router).toEqual({
      handler: 'functions/router.handler',
      timeout: 900,
      reservedConcurrency: '${self:custom.saltFunctionConcurrency, null}',
      // AWS_IAM unless --param routerUrlAuth=NONE (serverless/deploy-params.cjs)
      url: '${self:custom.deployParams.routerUrl}',
      role: roleOf(REGISTRY.find((e) => e.kind === 'router')!),
      // it runs salt and database operations: in the stage's VPC when it gives one
      vpc: '${self:custom.vpc, null}',
    });
    expect(REGISTRY.filter((e) => e.kind === 'router').map(functionFile)).toEqual(['router']);
  });

  it('is the only functions file serverless.yml reads', () => {
    const serverless = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as { functions: unknown };
    expect(serverless.functions).toBe('${file(./serverless/functions.yml)}');
    // roles.yml: the roles of those functions (both generated)
    expect(
      readdirSync(join(ROOT, 'serverless'))
        .filter((f) => f.endsWith('.yml'))
        .sort(),
    ).toEqual(['functions.yml', 'roles.yml']);
  });
});

describe('serverless/roles.yml (a role per set of AWS needs)', () => {
  const roles = parse(readFileSync(join(ROOT, 'serverless', 'roles.yml'), 'utf8')) as Record<string, { needs: string[]; functions: string[] }>;

  it('is what `npm run generate` writes from the registry', () => {
    expect(readFileSync(join(ROOT, 'serverless', 'roles.yml'), 'utf8')).toBe(serverlessRoles());
  });

  it.each(REGISTRY.map((e) => [functionName(e), e] as const))("%s: its declared role lists it, with the entry's needs", (name, entry) => {
    const role = roles[declared[name]!.role]!;
    expect(role.functions).toContain(name);
    expect(role.needs).toEqual(needsOf(entry));
  });

  it('lists every function in exactly one role', () => {
    const listed = Object.values(roles).flatMap((r) => r.functions);
    expect(listed.sort()).toEqual(REGISTRY.map(functionName).sort());
  });

  it("gives the router the union of every operation's needs (it serves them all in-process)", () => {
    const router = REGISTRY.find((e) => e.kind === 'router')!;
    expect(new Set(needsOf(router))).toEqual(new Set(OPERATIONS.flatMap((o) => o.aws)));
  });

  it('joins functions with the same needs and VPC placement, and nothing else', () => {
    for (const role of Object.values(roles)) {
      const entries = role.functions.map((name) => REGISTRY.find((e) => functionName(e) === name)!);
      expect(new Set(entries.map((e) => JSON.stringify([needsOf(e), declared[functionName(e)]!.vpc !== undefined]))).size).toBe(1);
    }
  });
});

describe('routes and the OpenAPI document', () => {
  it.each(OPERATIONS.map((o) => [`${o.plugin}/${o.action}`, o] as const))('%s: every path resolves to it and is documented', (_name, entry) => {
    for (const path of [currentPath(entry), ...entry.aliases]) {
      expect([path, resolveRoute(path)]).toEqual([path, { plugin: entry.plugin, action: entry.action }]);
      expect([path, path in openapi.paths]).toEqual([path, true]);
    }
  });

  it('documents no other path', () => {
    const all = OPERATIONS.flatMap((o) => [currentPath(o), ...o.aliases]);
    expect(Object.keys(openapi.paths).sort()).toEqual(all.sort());
  });
});
