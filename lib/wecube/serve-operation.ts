import { getRuntime, type Runtime } from '../runtime.js';
import { makeHttpHandler, makeTaskHandler } from './http-handler.js';
import type { Operation } from './operation.js';

/** What every functions/<plugin>-<action>.ts exports: the operation, its HTTP handler and its task handler. */
export function serveOperation(factory: (rt: Runtime) => Operation, runtime: Runtime = getRuntime()) {
  const operation = factory(runtime);
  return {
    operation,
    handler: makeHttpHandler([operation], runtime),
    task: makeTaskHandler(operation, runtime),
  };
}
