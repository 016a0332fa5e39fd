/**
 * The server's own schemas and accounts: dropping one breaks the server (mysql holds the grant tables) or
 * locks the operator out (root), so mysql-database/delete and mysql-user/delete refuse them. Compared
 * case-insensitively with surrounding spaces and backticks removed, so that `` `MySQL` `` is refused too:
 * on a case-insensitive file system (lower_case_table_names=1/2) it is the same schema.
 */

export const SYSTEM_SCHEMAS: readonly string[] = ['mysql', 'sys', 'information_schema', 'performance_schema'];

/** Accounts the server creates for itself (MySQL 8 and MariaDB) and the superuser. */
export const SYSTEM_ACCOUNTS: readonly string[] = ['root', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'mariadb.sys'];

const canonical = (name: string) => name.replace(/^[\s`]+|[\s`]+$/g, '').toLowerCase();

/** Why a schema may not be dropped (it is one of the server's), or undefined. */
export function systemSchemaProblem(name: string): string | undefined {
  const n = canonical(name);
  return SYSTEM_SCHEMAS.includes(n) ? `${n} is a system schema of the server; it is never dropped` : undefined;
}

/** Why an account may not be dropped (root or one of the server's own), or undefined. */
export function systemAccountProblem(name: string): string | undefined {
  const n = canonical(name);
  return SYSTEM_ACCOUNTS.includes(n) ? `${n} is a system account of the server; it is never dropped` : undefined;
}
