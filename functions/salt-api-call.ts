import { saltApiCall } from '../lib/salt/salt-api-call.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => saltApiCall(rt));
