import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import document from '../openapi.json' with { type: 'json' };

const body = JSON.stringify(document);

/** GET /saltstack/v1/openapi.json: the API reference, generated from the handlers' schemas (npm run generate). */
export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body,
});
