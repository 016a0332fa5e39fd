import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { functionFile, OPERATIONS } from '../../../lib/registry.js';
import { SERVER_FUNCTIONS } from '../../../lib/server/function-table.js';
import { routeTableOf } from '../../../lib/server/route-table.js';

// The production server cannot scan functions/ (it is one bundle): its literal list must hold every
// operation of the registry, each under its own file, and the OpenAPI document.
describe('the server function table', () => {
  const files = SERVER_FUNCTIONS.map(([file]) => file);

  it('lists every operation of the registry and the openapi function, nothing else', () => {
    expect([...files].sort()).toEqual([...OPERATIONS.map(functionFile), 'openapi'].sort());
    expect(new Set(files).size).toBe(files.length);
  });

  it.each(SERVER_FUNCTIONS.filter(([file]) => file !== 'openapi').map(([file]) => [file]))('%s exports the operation its name says', (file) => {
    const mod = SERVER_FUNCTIONS.find(([f]) => f === file)![1];
    expect(`${mod.operation!.plugin}-${mod.operation!.action}`).toBe(file);
    expect(typeof mod.handler).toBe('function');
  });

  it('imports each module from its own file (literal specifiers, the bundler sees them)', () => {
    const source = readFileSync(new URL('../../../lib/server/function-table.ts', import.meta.url), 'utf8');
    for (const file of files) expect(source).toContain(`from '../../functions/${file}.js'`);
  });

  it('gives a route table serving every operation and the OpenAPI document', () => {
    const table = routeTableOf(SERVER_FUNCTIONS);
    expect([...table.byRoute.keys()].sort()).toEqual(OPERATIONS.map((o) => `${o.plugin}/${o.action}`).sort());
    expect(table.openapi).toBe(SERVER_FUNCTIONS.find(([file]) => file === 'openapi')![1].handler);
  });
});
