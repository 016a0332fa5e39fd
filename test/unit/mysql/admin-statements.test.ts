import { describe, expect, it } from '@jest/globals';
import { format } from 'mysql2';
import {
  alterPassword,
  createDatabase,
  createUser,
  databaseNameProblem,
  dropDatabase,
  findDatabaseGrants,
  grantOnDatabase,
  grantableDatabaseNameProblem,
  grantPattern,
  revokeOnDatabase,
  userNameProblem,
  type Statement,
} from '../../../lib/mysql/admin-statements.js';

/** What mysql2 sends for a statement: its own escaping (sql-escaper) of the values into the placeholders. */
const sent = (s: Statement) => format(s.sql, s.params as never[]);

describe('admin statements', () => {
  it('never puts a name or a password in the SQL text itself', () => {
    const nasty = "x'; DROP DATABASE mysql; -- `";
    for (const statement of [createDatabase(nasty), createUser(nasty, nasty), grantOnDatabase(nasty, nasty), alterPassword(nasty, nasty)]) {
      expect(statement.sql).not.toContain(nasty);
      expect(statement.sql).not.toContain('DROP DATABASE mysql');
    }
  });

  it.each<[string, Statement, string]>([
    ['a database with a backtick and a semicolon', createDatabase('a`b;c'), 'CREATE DATABASE `a``b;c`'],
    ['a database with a question mark', dropDatabase('why?'), 'DROP DATABASE `why?`'],
    ['an account with a quote', createUser("o'brien", "pa'ss\\word"), "CREATE USER 'o\\'brien'@'%' IDENTIFIED BY 'pa\\'ss\\\\word'"],
    ['a placeholder-looking password', createUser('u', '?? ?'), "CREATE USER 'u'@'%' IDENTIFIED BY '?? ?'"],
    ['a grant on a name with wildcards', grantOnDatabase('app_db%', 'u'), "GRANT ALL PRIVILEGES ON `app\\_db\\%`.* TO 'u'@'%'"],
    ['a grant on the mysql schema is SELECT only', grantOnDatabase('mysql', 'u'), "GRANT SELECT ON `mysql`.* TO 'u'@'%'"],
    ['a revoke of a stored grant', revokeOnDatabase('app\\_db', 'u', 'localhost'), "REVOKE ALL PRIVILEGES ON `app\\_db`.* FROM 'u'@'localhost'"],
    ['a password change', alterPassword('u', 'n3w;pass'), "ALTER USER 'u'@'%' IDENTIFIED BY 'n3w;pass'"],
  ])('escapes %s', (_, statement, expected) => {
    expect(sent(statement)).toBe(expected);
  });

  it('looks up grants by the bare name and by the escaped pattern', () => {
    expect(findDatabaseGrants('app_db').params).toEqual(['app_db', 'app\\_db']);
  });

  it.each([
    ['app_db', 'app\\_db'],
    ['50%', '50\\%'],
    ['plain', 'plain'],
  ])('makes %s the exact grant pattern %s', (name, pattern) => {
    expect(grantPattern(name)).toBe(pattern);
  });

  it.each<[string, string | undefined]>([
    ["it's;`odd` name", undefined],
    ['ünïcode', undefined],
    ['a'.repeat(64), undefined],
    ['a'.repeat(65), 'at most 64 characters'],
    ['a.b', 'the characters . / \\ are not allowed'],
    ['a/b', 'the characters . / \\ are not allowed'],
    ['a\\b', 'the characters . / \\ are not allowed'],
    ['tab\there', 'control characters are not allowed'],
    ['nul\0', 'control characters are not allowed'],
    ['trailing ', 'leading or trailing spaces are not allowed'],
  ])('database name %j: %s', (name, problem) => {
    expect(databaseNameProblem(name)).toBe(problem);
  });

  it.each<[string, string | undefined]>([
    ['a'.repeat(64), undefined],
    ['a_'.repeat(2) + 'a'.repeat(58), undefined],
    ['a_'.repeat(3) + 'a'.repeat(57), 'at most 64 characters once its _ and % are escaped for the grant'],
    ['a.b', 'the characters . / \\ are not allowed'],
  ])('grantable database name %j: %s', (name, problem) => {
    expect(grantableDatabaseNameProblem(name)).toBe(problem);
  });

  it.each<[string, string | undefined]>([
    ["o'brien;`x`", undefined],
    ['u'.repeat(80), undefined],
    ['u'.repeat(81), 'at most 80 characters'],
    ['new\nline', 'control characters are not allowed'],
    [' lead', 'leading or trailing spaces are not allowed'],
  ])('account name %j: %s', (name, problem) => {
    expect(userNameProblem(name)).toBe(problem);
  });
});
