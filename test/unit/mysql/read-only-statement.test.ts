import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { assertReadOnlyStatements, readOnlyProblem } from '../../../lib/mysql/read-only-statement.js';
import { splitSql } from '../../../lib/mysql/split-sql.js';

/** What the guard says about a script, judged statement by statement as splitSql sends it. */
const judge = (script: string): string | undefined => {
  try {
    assertReadOnlyStatements(splitSql(script));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
};

describe('readOnlyProblem', () => {
  it.each([
    ['a plain SELECT', 'SELECT id, name FROM items WHERE id = 1'],
    ['lower case', 'select 1'],
    ['WITH RECURSIVE', 'WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3) SELECT n FROM s'],
    ['SHOW', 'SHOW TABLES'],
    ['SHOW GRANTS', 'SHOW GRANTS FOR CURRENT_USER()'],
    ['DESCRIBE', 'DESCRIBE items'],
    ['DESC', 'desc items'],
    ['EXPLAIN of a SELECT', 'EXPLAIN SELECT * FROM items'],
    ['EXPLAIN FORMAT=JSON', 'EXPLAIN FORMAT=JSON SELECT 1'],
    ['TABLE', 'TABLE items'],
    ['VALUES', 'VALUES (1), (2)'],
    ['a parenthesised UNION', '((SELECT 1) UNION (SELECT 2))'],
    ['keywords inside a string', "SELECT 'INTO OUTFILE /tmp/x; SET GLOBAL x = 1' AS note"],
    ['keywords inside a double-quoted string', 'SELECT "update delete lock into" AS note'],
    ['a backticked keyword column', 'SELECT `into`, `update`, `lock` FROM t'],
    ['a backticked name with a doubled backtick', 'SELECT `a``into` FROM t'],
    ['an escaped quote before a keyword in the string', "SELECT 'can\\'t update this' AS note"],
    ['a doubled quote', "SELECT 'it''s into' AS note"],
    ['a backslash before the closing quote, escaped', "SELECT 'C:\\\\' AS dir, 'into' AS w"],
    ['the string functions INSERT() and REPLACE()', "SELECT REPLACE(name, 'a', 'b'), INSERT(name, 1, 1, 'x') FROM t"],
    ['REPLACE with a space before its parenthesis', "SELECT REPLACE (name, 'a', 'b') FROM t"],
    ['CHARACTER SET inside CONVERT', 'SELECT CAST(name AS CHAR CHARACTER SET utf8mb4) FROM t'],
    ['SLEEP (bounded by DB_QUERY_TIMEOUT_MS)', 'SELECT SLEEP(1)'],
    ['a user variable assigned in the SELECT', 'SELECT @n := COUNT(*) FROM t'],
    ['a system variable read', 'SELECT @@GLOBAL.sql_mode'],
    ['an optimizer hint', 'SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1'],
    ['words next to unicode', 'SELECT "é" AS `名前`, nom_é FROM t'],
    ['a name ending in into', 'SELECT col_into, into_col FROM t'],
    ['`--x` as minus minus x', 'SELECT 1 --1'],
    ['share as a column', 'SELECT share FROM t'],
  ])('accepts %s', (_, sql) => {
    expect(readOnlyProblem(sql)).toBeUndefined();
  });

  it.each([
    ['INTO OUTFILE', "SELECT 1 INTO OUTFILE '/tmp/x'", 'INTO'],
    ['INTO DUMPFILE', "SELECT 1 INTO DUMPFILE '/tmp/x'", 'INTO'],
    ['INTO a variable', 'SELECT 1 INTO @x', 'INTO'],
    ['INTO in lower case', "select 1 into outfile '/tmp/x'", 'INTO'],
    ['INTO right after a number exponent', "SELECT 1e1INTO OUTFILE '/tmp/x'", 'INTO'],
    ['INTO right after a decimal point', "SELECT 1.INTO OUTFILE '/tmp/x'", 'INTO'],
    ['the executable comment /*! */', "SELECT 1 /*! INTO OUTFILE '/tmp/x' */", 'an executable comment (/*! ... */)'],
    ['a versioned executable comment', "SELECT 1 /*!50100 INTO OUTFILE '/tmp/x' */", 'an executable comment (/*! ... */)'],
    ['a MariaDB executable comment', "SELECT 1 /*M!100100 INTO OUTFILE '/tmp/x' */", 'an executable comment (/*! ... */)'],
    ['an executable comment that hides its own end in a quote', "SELECT 1 /*!99999 ' */ INTO OUTFILE '/tmp/x' -- ' */", 'an executable comment (/*! ... */)'],
    ['an optimizer hint with a quote', "SELECT /*+ ' */ 1 INTO OUTFILE '/tmp/x' -- ' */ 1", 'an optimizer hint with quotes or comments in it'],
    ['LOAD_FILE', "SELECT LOAD_FILE('/etc/passwd')", 'LOAD_FILE'],
    ['FOR UPDATE', 'SELECT * FROM t FOR UPDATE', 'UPDATE'],
    ['LOCK IN SHARE MODE', 'SELECT * FROM t LOCK IN SHARE MODE', 'LOCK'],
    ['FOR SHARE', 'SELECT * FROM t FOR SHARE', 'FOR SHARE'],
    ['FOR /**/ SHARE', 'SELECT * FROM t FOR/**/SHARE', 'FOR SHARE'],
    ['GET_LOCK', "SELECT GET_LOCK('x', 10)", 'GET_LOCK'],
    ['RELEASE_ALL_LOCKS', 'SELECT RELEASE_ALL_LOCKS()', 'RELEASE_ALL_LOCKS'],
    ['BENCHMARK', 'SELECT BENCHMARK(100000000, MD5(1))', 'BENCHMARK'],
    ['sys_exec', "SELECT sys_exec('id')", 'SYS_EXEC'],
    ['a keyring function', "SELECT keyring_key_remove('k', 'u')", 'KEYRING_KEY_REMOVE'],
    ['NEXTVAL', 'SELECT NEXTVAL(s)', 'NEXTVAL'],
    ['NEXT VALUE FOR', 'SELECT NEXT VALUE FOR s', 'NEXT VALUE'],
    ['SET GLOBAL', 'SET GLOBAL general_log = 1', 'SET'],
    ['SET SESSION', 'SET SESSION TRANSACTION READ WRITE', 'SET'],
    ['KILL', 'KILL 1', 'KILL'],
    ['SHUTDOWN', 'SHUTDOWN', 'SHUTDOWN'],
    ['CALL', 'CALL p()', 'CALL'],
    ['DO', 'DO SLEEP(1)', 'DO'],
    ['HANDLER', 'HANDLER t OPEN', 'HANDLER'],
    ['LOAD DATA', "LOAD DATA INFILE '/etc/passwd' INTO TABLE t", 'LOAD'],
    ['INSTALL PLUGIN', "INSTALL PLUGIN x SONAME 'x.so'", 'INSTALL'],
    ['FLUSH', 'FLUSH PRIVILEGES', 'FLUSH'],
    ['LOCK TABLES', 'LOCK TABLES t READ', 'LOCK'],
    ['GRANT', 'GRANT ALL ON *.* TO x', 'GRANT'],
    ['CREATE', 'CREATE TABLE x (a INT)', 'CREATE'],
    ['PREPARE', "PREPARE s FROM 'SELECT 1'", 'PREPARE'],
    ['EXECUTE', 'EXECUTE s', 'EXECUTE'],
    ['BINLOG', "BINLOG 'abc'", 'BINLOG'],
    ['PURGE', 'PURGE BINARY LOGS BEFORE NOW()', 'PURGE'],
    ['CHANGE MASTER', "CHANGE MASTER TO MASTER_HOST='x'", 'CHANGE'],
    ['RESET', 'RESET MASTER', 'RESET'],
    ['COMMIT', 'COMMIT', 'COMMIT'],
    ['a comment trick SEL/**/ECT', 'SEL/**/ECT 1', 'SEL'],
    ['a comment before the keyword', '/* report */ UPDATE t SET a = 1', 'UPDATE'],
    ['WITH ... DELETE', 'WITH c AS (SELECT 1) DELETE FROM t', 'DELETE'],
    ['EXPLAIN of an UPDATE', 'EXPLAIN UPDATE t SET a = 1', 'UPDATE'],
    ['EXPLAIN of a REPLACE without INTO', 'EXPLAIN REPLACE t VALUES (1)', 'REPLACE'],
    ['ANALYZE (runs the statement)', 'ANALYZE SELECT 1', 'ANALYZE'],
    ['a second statement after ;', 'SELECT 1; SET GLOBAL x = 1', '`;` (a second statement)'],
    ['a parenthesised non-query', '(DO 1)', 'a parenthesised statement that is not a query'],
    ['a statement starting with a literal', "'x'", 'a statement that is not a query'],
    ['a NUL character', 'SELECT 1 #\u0000\nINTO @x', 'a NUL character'],
    ['`--` then a non-ASCII character', "SELECT 1 --\u00a0'\nINTO @x -- '", '`--` followed by a non-ASCII character'],
    // With NO_BACKSLASH_ESCAPES the first string ends at the backslash and INTO is code.
    ['INTO hidden by a backslash only some sql_modes honour', "SELECT 'a\\' INTO OUTFILE '/tmp/x' -- '", 'INTO'],
    // With ANSI_QUOTES "..." is an identifier, where a backslash escapes nothing.
    ['INTO hidden by a backslash in double quotes', 'SELECT "a\\" INTO OUTFILE \'/tmp/x\' -- "', 'INTO'],
    ['a word with unicode around it', 'SELECT 1 éINTO @x', 'INTO'],
  ])('refuses %s', (_, sql, keyword) => {
    expect(readOnlyProblem(sql)).toBe(keyword);
  });

  it('leaves an unterminated string to the server (a syntax error runs nothing)', () => {
    expect(readOnlyProblem("SELECT 'abc")).toBeUndefined();
    expect(readOnlyProblem("SELECT 'abc\\")).toBeUndefined();
  });
});

describe('assertReadOnlyStatements', () => {
  it('names the statement, its line and the keyword, and never a literal of the SQL', () => {
    const message = judge("SELECT 1;\n\nSELECT 'hunter2-secret' INTO OUTFILE '/tmp/x'");
    expect(message).toBe(
      'Parameter sql validation failed: statement 2 (line 3): INTO is not allowed in run-custom-sql (read-only queries only: SELECT, SHOW, DESCRIBE, EXPLAIN, WITH)',
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('/tmp/x');
  });

  it('judges the text splitSql sends: `-- ` is a comment, `--x` is not, a `#` comment hides its line', () => {
    expect(judge("SELECT 1 -- INTO OUTFILE '/tmp/x'")).toBeUndefined();
    expect(judge("SELECT 1 # INTO OUTFILE '/tmp/x'")).toBeUndefined();
    expect(judge("SELECT 1 --x\nINTO OUTFILE '/tmp/x'")).toContain('INTO is not allowed');
    expect(judge('SELECT 1 /* INTO */ FROM t')).toBeUndefined();
  });

  it('refuses the executable comment that splitSql keeps', () => {
    expect(judge("SELECT 1 /*! INTO OUTFILE '/tmp/x' */")).toContain('statement 1 (line 1): an executable comment (/*! ... */) is not allowed');
  });

  it('judges every statement of a multi-statement script, with a changed DELIMITER too', () => {
    expect(judge('SELECT 1;\nSHOW TABLES;\nDESC t')).toBeUndefined();
    expect(judge('SELECT 1;\nKILL 7')).toContain('statement 2 (line 2): KILL is not allowed');
    expect(judge('DELIMITER //\nSELECT 1; SET GLOBAL x = 1 //')).toContain('`;` (a second statement) is not allowed');
  });
});
