import { describe, expect, it } from '@jest/globals';
import { buildOpenApi } from '../../../lib/wecube/openapi.js';
import { loadConfig } from '../../../lib/config.js';
import { createRuntime } from '../../../lib/runtime.js';
import { operationsFor } from '../../../scripts/lib/load-operations.js';

// The document describes the defaults: the operations over a runtime of the default (local) configuration.
const ops = await operationsFor(createRuntime(loadConfig({ AUTH_MODE: 'off' })));
const doc = buildOpenApi(ops, '1.2.3') as { openapi: string; paths: Record<string, any>; components: Record<string, any> };
/** Follows a `#/components/...` reference. */
const deref = (node: { $ref?: string }) =>
  node.$ref
    ? node.$ref
        .slice(2)
        .split('/')
        .reduce((n: any, k) => n[k], doc)
    : node;
const itemSchema = (path: string) => deref(doc.paths[path].post.requestBody).content['application/json'].schema.properties.inputs.items;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the given version', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect((doc as any).info.version).toBe('1.2.3');
  });

  it.each(ops.map((op) => [`${op.plugin}/${op.action}`]))('documents %s at its current path and its /v1/deploy alias', (name) => {
    expect(doc.paths[`/saltstack/v1/${name}`].post.deprecated).toBe(false);
    expect(doc.paths[`/v1/deploy/${name}`].post.deprecated).toBe(true);
  });

  it('marks exactly the fields an absent value fails as required', () => {
    expect(itemSchema('/saltstack/v1/password/sshkeygen').required).toEqual(['guid', 'keyName']);
    expect(itemSchema('/saltstack/v1/host-info/query').required).toEqual(['target']);
  });

  it('lets string fields be numbers or booleans, as WeCube callers send them', () => {
    expect(itemSchema('/saltstack/v1/host-info/query').properties.target.type).toEqual(['string', 'number', 'boolean', 'null']);
  });

  it('describes the output fields of an operation', () => {
    const outputs = deref(doc.paths['/saltstack/v1/host-info/query'].post.responses['200']).content['application/json'].schema.properties.results.properties
      .outputs;
    expect(Object.keys(outputs.items.allOf[0].properties)).toEqual(
      expect.arrayContaining(['numCpus', 'memTotal', 'diskTotal', 'os', 'kernel', 'diskMounts', 'hwaddrInterfaces']),
    );
  });
});

describe("the document's references", () => {
  it('resolve, and every operationId is unique', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(ops.length * 3);
    for (const ref of new Set(refs)) expect([ref, deref({ $ref: JSON.parse(`{${ref}}`).$ref })]).toEqual([ref, expect.anything()]);
    const ids = Object.values(doc.paths).map((p: any) => p.post?.operationId ?? p.get?.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the committed openapi.json', () => {
  it('matches the schemas (run `npm run generate` after changing an operation)', async () => {
    const { readFileSync } = await import('node:fs');
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const committed = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApi(ops, version))));
  });
});
