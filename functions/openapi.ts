import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { allOperations } from '../lib/operations.js';
import { getRuntime } from '../lib/runtime.js';
import { buildOpenApi } from '../lib/wecube/openapi.js';

const document = JSON.stringify(buildOpenApi(allOperations(getRuntime()), '0.1.0'));

/** GET /saltstack/v1/openapi.json: the API reference, generated from the handlers' own schemas. */
export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: document,
});
