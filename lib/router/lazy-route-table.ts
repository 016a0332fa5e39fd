import { functionFile, OPERATIONS } from '../registry.js';
import type { FunctionModule, HttpHandler, RouteTable } from '../server/route-table.js';

type Loader = () => Promise<FunctionModule>;

/** A handler that imports its module on its first call (import() caches it) and calls the module's handler. */
const loadedOnFirstCall =
  (file: string, load: Loader): HttpHandler =>
  async (event, context) => {
    const handler = (await load()).handler;
    if (typeof handler !== 'function') throw new Error(`functions/${file}.ts exports no handler`);
    return (handler as HttpHandler)(event, context);
  };

/**
 * The route table of the registry's operations and the OpenAPI document over lazy loaders: keys come from the
 * registry (no module is imported to learn its route), each handler imports its module on first use. Throws
 * when a loader is missing for an operation or the document, so that a stale loader list fails at start-up,
 * not on the first request of the missing route.
 */
export function lazyRouteTable(loaders: Iterable<readonly [file: string, load: Loader]>): RouteTable {
  const byFile = new Map(loaders);
  const need = (file: string): Loader => {
    const load = byFile.get(file);
    if (!load) throw new Error(`the router has no loader for functions/${file}.ts: run npm run generate`);
    return load;
  };
  return {
    byRoute: new Map(OPERATIONS.map((op) => [`${op.plugin}/${op.action}`, loadedOnFirstCall(functionFile(op), need(functionFile(op)))] as const)),
    openapi: loadedOnFirstCall('openapi', need('openapi')),
    operations: OPERATIONS.map(({ plugin, action }) => ({ plugin, action })),
  };
}
