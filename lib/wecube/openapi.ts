import { z } from 'zod';
import type { Operation } from './operation.js';
import { legacyPaths } from './routes.js';

/** What every item of every reply carries besides its operation's outputs (components/schemas/ItemStatus). */
const ITEM_STATUS = {
  type: 'object',
  required: ['errorCode', 'errorMessage'],
  properties: {
    guid: { type: 'string' },
    callbackParameter: { type: 'string' },
    errorCode: { type: 'string', enum: ['0', '1'] },
    errorMessage: { type: 'string' },
    errorType: { type: 'string', description: 'on failure: E_INPUT, E_NO_RETURN, E_JOB_FAILED, ...' },
  },
};

const envelopeSchema = (outputItem: Record<string, unknown>) => ({
  type: 'object',
  required: ['resultCode', 'resultMessage', 'results'],
  properties: {
    resultCode: { type: 'string', enum: ['0', '1'] },
    resultMessage: { type: 'string', description: '"success", or every failed item with its guid and message' },
    results: {
      type: ['object', 'null'],
      properties: { outputs: { type: 'array', items: { allOf: [outputItem, { $ref: '#/components/schemas/ItemStatus' }] } } },
    },
  },
});

/** One item's JSON Schema (`required` as the handler decides it); the OpenAPI document and register.xml both read it. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  if (io === 'input' && schema instanceof z.ZodObject) {
    // WeCube fields accept null/absent at the type level; the refinements decide: a field is required
    // when an absent value does not validate.
    const shape = schema.shape as Record<string, z.ZodType>;
    const required = Object.keys(shape).filter((key) => !shape[key]!.safeParse(undefined).success);
    if (required.length) rest['required'] = required;
  }
  return rest;
}

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with. Each
 * operation's request and response are components (`#/components/requestBodies/<id>`,
 * `#/components/responses/<id>`), referenced by its current path and by each legacy alias, so an alias
 * costs a few lines, not a copy of the schemas.
 */
export function buildOpenApi(ops: readonly Operation[], version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const requestBodies: Record<string, unknown> = {};
  const responses: Record<string, unknown> = {
    BadEnvelope: { description: 'Bad envelope (not JSON, no inputs array)' },
    TokenIllegal: { description: 'Token illegal' },
  };
  for (const op of ops) {
    const id = `${op.plugin}-${op.action}`.replace(/[^\w-]/g, '_');
    requestBodies[id] = {
      required: true,
      content: {
        'application/json': {
          schema: { type: 'object', required: ['inputs'], properties: { inputs: { type: 'array', items: jsonSchema(op.input, 'input') } } },
        },
      },
    };
    responses[id] = {
      description: 'Processed; per-item results',
      content: { 'application/json': { schema: envelopeSchema(jsonSchema(op.output, 'output')) } },
    };
    const operation = (deprecated: boolean) => ({
      operationId: `${id}${deprecated ? '-legacy' : ''}`,
      summary: op.summary,
      tags: [op.plugin],
      deprecated,
      security: [{ wecubeJwt: [] }],
      requestBody: { $ref: `#/components/requestBodies/${id}` },
      responses: {
        '200': { $ref: `#/components/responses/${id}` },
        '400': { $ref: '#/components/responses/BadEnvelope' },
        '401': { $ref: '#/components/responses/TokenIllegal' },
      },
    });
    paths[`/saltstack/v1/${op.plugin}/${op.action}`] = { post: operation(false) };
    const legacy = legacyPaths(op);
    legacy.forEach((path, i) => (paths[path] = { post: { ...operation(true), operationId: `${id}-legacy${i ? `-${i + 1}` : ''}` } }));
  }
  return {
    openapi: '3.1.0',
    info: { title: 'SaltStack plugin (serverless edition)', version },
    components: {
      securitySchemes: { wecubeJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { ItemStatus: ITEM_STATUS },
      requestBodies,
      responses,
    },
    paths,
  };
}
