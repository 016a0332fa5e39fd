import type { Runtime } from '../runtime-types.js';
import { sqlFileLoader } from './load-sql-files.js';
import { mysqlDeps } from './mysql-deps.js';
import type { MysqlScriptDeps } from './mysql-script-operations.js';

/** The clients of mysql-script/run: a MySQL connector and the runtime's S3 store, which the scripts are read from. */
export function mysqlScriptDeps(rt: Runtime): MysqlScriptDeps {
  return { ...mysqlDeps(rt), loadSqlFiles: sqlFileLoader(rt.store) };
}
