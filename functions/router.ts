import { makeFunctionUrlRouter } from '../lib/router/function-url-router.js';
import { FUNCTION_LOADERS } from '../lib/router/function-loaders.js';
import { lazyRouteTable } from '../lib/router/lazy-route-table.js';

/**
 * The one Function URL (15 min, AuthType NONE: the operations' JWT check is the gate) serving every route of
 * every operation and GET /saltstack/v1/openapi.json, each by its own deployed handler in this process,
 * imported on its route's first request.
 */
export const handler = makeFunctionUrlRouter(lazyRouteTable(FUNCTION_LOADERS));
