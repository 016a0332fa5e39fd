import { mysqlDatabaseDelete } from '../lib/mysql/mysql-database-operations.js';
import { mysqlDeps } from '../lib/mysql/mysql-deps.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => mysqlDatabaseDelete(mysqlDeps(rt)));
