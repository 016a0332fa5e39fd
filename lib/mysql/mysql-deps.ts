import type { Runtime } from '../runtime.js';
import type { MysqlDeps } from './admin-session.js';
import { mysqlConnector } from './mysql-session.js';

/** The clients of the mysql-database and mysql-user operations, from the container's runtime. */
export function mysqlDeps(rt: Runtime): MysqlDeps {
  return {
    config: rt.config,
    connect: mysqlConnector({
      connectTimeoutMs: rt.config.db.connectTimeoutMs,
      queryTimeoutMs: rt.config.db.queryTimeoutMs,
      tls: rt.config.db.mysqlTls,
    }),
  };
}
