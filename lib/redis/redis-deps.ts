import type { Runtime } from '../runtime-types.js';
import { redisConnector, type RedisConnector } from './redis-session.js';
import type { RedisDeps } from './redis-user-operations.js';

/**
 * The clients of the redis-user operations, from the container's runtime. Reads no setting until the
 * first connection: the runtime may be a deferred one (its config parsed on first use).
 */
export function redisDeps(rt: Runtime): RedisDeps {
  let connector: RedisConnector | undefined;
  return {
    config: rt.config,
    connect: (target, signal) =>
      (connector ??= redisConnector({
        connectTimeoutMs: rt.config.db.connectTimeoutMs,
        commandTimeoutMs: rt.config.db.queryTimeoutMs,
        tls: rt.config.db.redisTls,
      }))(target, signal),
  };
}
