import { z } from 'zod';
import type { Operation } from './operation.js';
import { legacyPaths } from './routes.js';

const envelopeSchema = (outputItem: Record<string, unknown>) => ({
  type: 'object',
  required: ['resultCode', 'resultMessage', 'results'],
  properties: {
    resultCode: { type: 'string', enum: ['0', '1'] },
    resultMessage: { type: 'string', description: '"success", or every failed item with its guid and message' },
    results: {
      type: ['object', 'null'],
      properties: {
        outputs: {
          type: 'array',
          items: {
            allOf: [
              outputItem,
              {
                type: 'object',
                required: ['errorCode', 'errorMessage'],
                properties: {
                  guid: { type: 'string' },
                  callbackParameter: { type: 'string' },
                  errorCode: { type: 'string', enum: ['0', '1'] },
                  errorMessage: { type: 'string' },
                  errorType: { type: 'string', description: 'on failure: E_INPUT, E_NO_RETURN, E_JOB_FAILED, ...' },
                },
              },
            ],
          },
        },
      },
    },
  },
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
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

/** The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with. */
export function buildOpenApi(ops: readonly Operation[], version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const op of ops) {
    const operation = (deprecated: boolean) => ({
      operationId: `${op.plugin}-${op.action}${deprecated ? '-legacy' : ''}`.replace(/[^\w-]/g, '_'),
      summary: op.summary,
      tags: [op.plugin],
      deprecated,
      security: [{ wecubeJwt: [] }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['inputs'],
              properties: { inputs: { type: 'array', items: jsonSchema(op.input, 'input') } },
            },
          },
        },
      },
      responses: {
        '200': { description: 'Processed; per-item results', content: { 'application/json': { schema: envelopeSchema(jsonSchema(op.output, 'output')) } } },
        '400': { description: 'Bad envelope (not JSON, no inputs array)' },
        '401': { description: 'Token illegal' },
      },
    });
    paths[`/saltstack/v1/${op.plugin}/${op.action}`] = { post: operation(false) };
    for (const legacy of legacyPaths(op)) paths[legacy] = { post: operation(true) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'SaltStack plugin (serverless edition)', version },
    components: { securitySchemes: { wecubeJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
