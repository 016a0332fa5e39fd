/**
 * The router's route table (lib/router/lazy-route-table.ts over the generated lib/router/function-loaders.ts)
 * equals the routes of lib/wecube/routes.ts, loads each function module only on its route's first request,
 * and fails at build time when a loader is missing.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { currentPath, functionFile, OPERATIONS } from '../../lib/registry.js';
import { FUNCTION_LOADERS } from '../../lib/router/function-loaders.js';
import { lazyRouteTable } from '../../lib/router/lazy-route-table.js';
import type { FunctionModule } from '../../lib/server/route-table.js';
import { resolveRoute } from '../../lib/wecube/routes.js';
import { routedFiles, routerLoaders } from '../../scripts/lib/router-loaders.js';

const event = { rawPath: '/x' } as APIGatewayProxyEventV2;
const context = {} as Context;

describe('lib/router/function-loaders.ts', () => {
  it('is what `npm run generate` writes from the registry', () => {
    expect(readFileSync(new URL('../../lib/router/function-loaders.ts', import.meta.url), 'utf8')).toBe(routerLoaders());
  });

  it('loads every operation and the OpenAPI document, each from its own file', async () => {
    expect(FUNCTION_LOADERS.map(([file]) => file)).toEqual(routedFiles());
    expect([...routedFiles()].sort()).toEqual([...OPERATIONS.map(functionFile), 'openapi'].sort());
    for (const [file, load] of FUNCTION_LOADERS) {
      const mod = await load();
      expect([file, typeof mod.handler]).toEqual([file, 'function']);
      if (file !== 'openapi') expect([file, `${mod.operation?.plugin}-${mod.operation?.action}`]).toEqual([file, file]);
    }
  }, 60_000);
});

describe('lazyRouteTable', () => {
  const table = lazyRouteTable(FUNCTION_LOADERS);

  it("serves exactly the routes of lib/wecube/routes.ts: every operation's path and alias resolves to a key of it", () => {
    const resolved = OPERATIONS.flatMap((op) => [currentPath(op), ...op.aliases]).map((path) => {
      const route = resolveRoute(path)!;
      return `${route.plugin}/${route.action}`;
    });
    expect([...table.byRoute.keys()].sort()).toEqual([...new Set(resolved)].sort());
    expect(table.byRoute.size).toBe(OPERATIONS.length);
    expect(table.openapi).toBeDefined();
    expect(table.operations).toEqual(OPERATIONS.map(({ plugin, action }) => ({ plugin, action })));
  });

  it('imports a module on its first request only, then calls its handler with the event and context as given', async () => {
    const loads: string[] = [];
    const seen: unknown[] = [];
    const loaders = [...OPERATIONS.map(functionFile), 'openapi'].map(
      (file) =>
        [
          file,
          async (): Promise<FunctionModule> => {
            loads.push(file);
            return { handler: async (e: unknown, c: unknown) => (seen.push([file, e, c]), { statusCode: 200, body: file }) };
          },
        ] as const,
    );
    const lazy = lazyRouteTable(loaders);
    expect(loads).toEqual([]);
    const res = await lazy.byRoute.get('password/encode')!(event, context);
    expect(res).toEqual({ statusCode: 200, body: 'password-encode' });
    expect(seen).toEqual([['password-encode', event, context]]);
    expect(loads).toEqual(['password-encode']);
    await lazy.openapi!(event, context);
    expect(loads).toEqual(['password-encode', 'openapi']);
  });

  it('refuses to build without a loader for every operation, naming the file', () => {
    const without = FUNCTION_LOADERS.filter(([file]) => file !== 'host-script-run');
    expect(() => lazyRouteTable(without)).toThrow('functions/host-script-run.ts');
    expect(() => lazyRouteTable(FUNCTION_LOADERS.filter(([file]) => file !== 'openapi'))).toThrow('functions/openapi.ts');
  });

  it('fails a request whose module exports no handler, naming the file', async () => {
    const broken = lazyRouteTable(FUNCTION_LOADERS.map(([file, load]) => [file, file === 'password-encode' ? async () => ({}) : load] as const));
    await expect(broken.byRoute.get('password/encode')!(event, context)).rejects.toThrow('functions/password-encode.ts exports no handler');
  });
});
