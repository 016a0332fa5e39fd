/**
 * The operations as deployed: each registry operation's `functions/<plugin>-<action>.ts` module imported and
 * its `operation` export taken (for the OpenAPI document and the registry test: the very objects the
 * handlers validate with).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { functionFile, OPERATIONS } from '../../lib/registry.js';
import type { Operation } from '../../lib/wecube/operation.js';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function loadOperations(): Promise<Operation[]> {
  const ops: Operation[] = [];
  for (const entry of OPERATIONS) {
    const file = join(projectRoot, 'functions', `${functionFile(entry)}.ts`);
    const mod = (await import(pathToFileURL(file).href)) as { operation?: Operation };
    if (!mod.operation) throw new Error(`functions/${functionFile(entry)}.ts exports no operation`);
    ops.push(mod.operation);
  }
  return ops;
}
