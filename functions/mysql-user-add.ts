import { mysqlDeps } from '../lib/mysql/mysql-deps.js';
import { mysqlUserAdd } from '../lib/mysql/mysql-user-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => mysqlUserAdd(mysqlDeps(rt)));
