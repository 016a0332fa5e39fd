import { hostUserAdd } from '../lib/users/host-user-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostUserAdd(rt));
