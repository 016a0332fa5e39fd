import { redisDeps } from '../lib/redis/redis-deps.js';
import { redisUserAdd } from '../lib/redis/redis-user-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => redisUserAdd(redisDeps(rt)));
