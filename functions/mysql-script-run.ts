import { mysqlScriptRun } from '../lib/mysql/mysql-script-operations.js';
import { mysqlScriptDeps } from '../lib/mysql/script-deps.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => mysqlScriptRun(mysqlScriptDeps(rt)));
