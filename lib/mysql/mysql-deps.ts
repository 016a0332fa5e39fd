import type { Runtime } from '../runtime-types.js';
import type { MysqlDeps } from './admin-session.js';
import { mysqlConnector, type MysqlConnector } from './mysql-session.js';

/**
 * The clients of the mysql-database and mysql-user operations, from the container's runtime. Reads no
 * setting until the first connection: the runtime may be a deferred one (its config parsed on first use).
 */
export function mysqlDeps(rt: Runtime): MysqlDeps {
  let connector: MysqlConnector | undefined;
  return {
    config: rt.config,
    connect: (target, signal) =>
      (connector ??= mysqlConnector({
        connectTimeoutMs: rt.config.db.connectTimeoutMs,
        queryTimeoutMs: rt.config.db.queryTimeoutMs,
        tls: rt.config.db.mysqlTls,
      }))(target, signal),
  };
}
