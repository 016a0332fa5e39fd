import type { Runtime } from '../runtime.js';
import { redisConnector } from './redis-session.js';
import type { RedisDeps } from './redis-user-operations.js';

/** The clients of the redis-user operations, from the container's runtime. */
export function redisDeps(rt: Runtime): RedisDeps {
  return {
    config: rt.config,
    connect: redisConnector({
      connectTimeoutMs: rt.config.db.connectTimeoutMs,
      commandTimeoutMs: rt.config.db.queryTimeoutMs,
      tls: rt.config.db.redisTls,
    }),
  };
}
