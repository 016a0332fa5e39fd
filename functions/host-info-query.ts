import { hostInfoQuery } from '../lib/salt/host-info.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostInfoQuery(rt.salt));
