import { mysqlDeps } from '../lib/mysql/mysql-deps.js';
import { mysqlScriptRunCustomSql } from '../lib/mysql/mysql-script-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => mysqlScriptRunCustomSql(mysqlDeps(rt)));
