/**
 * The account and schema statements of mysql-database and mysql-user, for MySQL 8 and MariaDB alike.
 * Names and passwords are never pasted into SQL text: the driver escapes them into `?` (strings) and
 * `??` (identifiers) placeholders, on a session whose sql_mode keeps backslash escapes meaningful.
 */

/** A statement and the values the driver escapes into its placeholders. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** Accounts are created for any client host, as upstream's `CREATE USER <u>` did. */
export const ACCOUNT_HOST = '%';

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why a database name is refused, or undefined when it can be created literally. Quotes, backticks,
 * semicolons and spaces are fine (the name is escaped); `.`, `/` and `\` are refused because they
 * change meaning in qualified names, grant patterns and the server's data directory.
 */
export function databaseNameProblem(name: string): string | undefined {
  if (name.length > 64) return 'at most 64 characters';
  if (CONTROL.test(name)) return 'control characters are not allowed';
  if (/[./\\]/.test(name)) return 'the characters . / \\ are not allowed';
  if (/\s$/.test(name) || /^\s/.test(name)) return 'leading or trailing spaces are not allowed';
  return undefined;
}

/**
 * Why a database name cannot be granted on exactly, or undefined: the server limits the grant pattern,
 * escapes included, to 64 characters.
 */
export function grantableDatabaseNameProblem(name: string): string | undefined {
  const problem = databaseNameProblem(name);
  if (problem) return problem;
  if (grantPattern(name).length > 64) return 'at most 64 characters once its _ and % are escaped for the grant';
  return undefined;
}

/** Why an account name is refused, or undefined; MariaDB allows 80 characters (MySQL 8 refuses over 32 itself). */
export function userNameProblem(name: string): string | undefined {
  if (name.length > 80) return 'at most 80 characters';
  if (CONTROL.test(name)) return 'control characters are not allowed';
  if (/\s$/.test(name) || /^\s/.test(name)) return 'leading or trailing spaces are not allowed';
  return undefined;
}

/**
 * The database name as a GRANT pattern: `_` and `%` are wildcards at the database level, so `app_db`
 * would also grant on `appXdb`; escaped, the grant covers exactly this database.
 */
export const grantPattern = (database: string): string => database.replace(/[_%\\]/g, (c) => '\\' + c);

/** Makes `\` an escape character in string literals for this session, which the driver's escaping assumes. */
export const backslashEscapesOn: Statement = {
  sql: "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))",
  params: [],
};

/** Schemas whose name equals `database` (compared case-insensitively; callers compare exactly). */
export const findSchema = (database: string): Statement => ({
  sql: 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
  params: [database],
});

/** The account `user`@`%` in the grant tables (MariaDB's mysql.user is a view over global_priv). */
export const findAccount = (user: string): Statement => ({
  sql: 'SELECT User, Host FROM mysql.user WHERE User = ? AND Host = ?',
  params: [user, ACCOUNT_HOST],
});

/** Database-level grants on `database`, whether made with the escaped pattern or the bare name. */
export const findDatabaseGrants = (database: string): Statement => ({
  sql: 'SELECT User, Host, Db FROM mysql.db WHERE Db = ? OR Db = ?',
  params: [database, grantPattern(database)],
});

export const createDatabase = (database: string): Statement => ({ sql: 'CREATE DATABASE ??', params: [database] });

export const dropDatabase = (database: string): Statement => ({ sql: 'DROP DATABASE ??', params: [database] });

export const createUser = (user: string, password: string): Statement => ({
  sql: 'CREATE USER ?@? IDENTIFIED BY ?',
  params: [user, ACCOUNT_HOST, password],
});

export const dropUser = (user: string): Statement => ({ sql: 'DROP USER ?@?', params: [user, ACCOUNT_HOST] });

/** ALL PRIVILEGES on the database, or SELECT when it is the `mysql` system schema (as upstream). */
export const grantOnDatabase = (database: string, user: string): Statement => ({
  sql: `GRANT ${database === 'mysql' ? 'SELECT' : 'ALL PRIVILEGES'} ON ??.* TO ?@?`,
  params: [grantPattern(database), user, ACCOUNT_HOST],
});

/** Revokes a grant found in mysql.db; `storedDb` is the Db column as stored (already a pattern). */
export const revokeOnDatabase = (storedDb: string, user: string, host: string): Statement => ({
  sql: 'REVOKE ALL PRIVILEGES ON ??.* FROM ?@?',
  params: [storedDb, user, host],
});

/** MySQL >= 5.7.6 and MariaDB >= 10.2. */
export const alterPassword = (user: string, password: string): Statement => ({
  sql: 'ALTER USER ?@? IDENTIFIED BY ?',
  params: [user, ACCOUNT_HOST, password],
});

/** The older form, for servers without ALTER USER (MariaDB < 10.2); MySQL 8 has no PASSWORD(). */
export const setPasswordLegacy = (user: string, password: string): Statement => ({
  sql: 'SET PASSWORD FOR ?@? = PASSWORD(?)',
  params: [user, ACCOUNT_HOST, password],
});
