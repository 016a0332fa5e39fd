/**
 * The operations as deployed: each registry operation's `functions/<plugin>-<action>.ts` module imported and
 * its `operation` export taken (for the OpenAPI document and the registry test: the very objects the
 * handlers validate with), or rebuilt over another runtime with its `build` export (tests with their own
 * configuration).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { functionFile, OPERATIONS } from '../../lib/registry.js';
import type { Runtime } from '../../lib/runtime.js';
import type { Operation } from '../../lib/wecube/operation.js';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface FunctionModule {
  operation?: Operation;
  build?: (rt: Runtime) => Operation;
}

async function modules(): Promise<FunctionModule[]> {
  const out: FunctionModule[] = [];
  for (const entry of OPERATIONS) {
    const file = join(projectRoot, 'functions', `${functionFile(entry)}.ts`);
    const mod = (await import(pathToFileURL(file).href)) as FunctionModule;
    if (!mod.operation || !mod.build) throw new Error(`functions/${functionFile(entry)}.ts exports no operation and build`);
    out.push(mod);
  }
  return out;
}

export async function loadOperations(): Promise<Operation[]> {
  return (await modules()).map((m) => m.operation!);
}

/** Every operation built over `rt` (the deployed binding of each, another configuration). */
export async function operationsFor(rt: Runtime): Promise<Operation[]> {
  return (await modules()).map((m) => m.build!(rt));
}
