import { deferredRuntime, type Runtime } from '../runtime.js';
import { makeHttpHandler, makeTaskHandler } from './http-handler.js';
import type { Operation } from './operation.js';

/**
 * What every functions/<plugin>-<action>.ts exports: the operation, its HTTP handler and its task handler.
 * The operation is declared at import over a deferred runtime: the environment is read on the first call.
 */
export function serveOperation(factory: (rt: Runtime) => Operation, runtime: Runtime = deferredRuntime()) {
  const operation = factory(runtime);
  return {
    operation,
    handler: makeHttpHandler([operation], runtime),
    task: makeTaskHandler(operation, runtime),
    /** The same operation over another runtime (tests and scripts with their own configuration). */
    build: factory,
  };
}
