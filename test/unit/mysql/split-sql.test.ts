import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { splitSql } from '../../../lib/mysql/split-sql.js';

const sqls = (script: string) => splitSql(script).map((s) => s.sql);

describe('splitSql', () => {
  it.each<[string, string, string[]]>([
    ['plain statements', 'SELECT 1;\nSELECT 2;\n', ['SELECT 1', 'SELECT 2']],
    ['text after the last terminator', 'SELECT 1;\nSELECT 2', ['SELECT 1', 'SELECT 2']],
    ['empty statements are skipped', ';;SELECT 1;;\n;', ['SELECT 1']],
    ['a single-quoted ;', "INSERT INTO t VALUES ('a;b');", ["INSERT INTO t VALUES ('a;b')"]],
    ['a double-quoted ;', 'INSERT INTO t VALUES ("a;b");', ['INSERT INTO t VALUES ("a;b")']],
    ['a backtick identifier with ;', 'CREATE TABLE `a;b` (x INT);', ['CREATE TABLE `a;b` (x INT)']],
    ['an escaped quote', "SELECT 'it\\'s;';SELECT 2", ["SELECT 'it\\'s;'", 'SELECT 2']],
    ['a doubled quote', "SELECT 'it''s;';SELECT 2", ["SELECT 'it''s;'", 'SELECT 2']],
    ['an escaped backslash before the closing quote', "SELECT 'a\\\\';SELECT 2", ["SELECT 'a\\\\'", 'SELECT 2']],
    ['a backslash is literal inside backticks', 'SELECT 1 AS `a\\`;SELECT 2', ['SELECT 1 AS `a\\`', 'SELECT 2']],
    ['quotes inside backticks', "SELECT 1 AS `it's`;SELECT 2", ["SELECT 1 AS `it's`", 'SELECT 2']],
    ['a -- comment', 'SELECT 1; -- one; two\nSELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['-- at the end of a line', 'SELECT 1 --\n;', ['SELECT 1']],
    ['--x is not a comment (5--1)', 'SELECT 5--1;', ['SELECT 5--1']],
    ['a # comment', '# setup; really\nSELECT 1; # trailing ;\n', ['SELECT 1']],
    ['a /* */ comment with ;', 'SELECT /* a; b */ 1;', ['SELECT   1']],
    ['a multi-line /* */ comment', '/* header;\n still; */\nSELECT 1;', ['SELECT 1']],
    ['/*! */ is kept', '/*!40101 SET NAMES utf8mb4 */;', ['/*!40101 SET NAMES utf8mb4 */']],
    ['/*M! */ is kept', '/*M!100100 SET @x = 1 */;', ['/*M!100100 SET @x = 1 */']],
    ['comment markers inside strings are text', "SELECT '-- no', '# no', '/* no */';", ["SELECT '-- no', '# no', '/* no */'"]],
    ['quotes inside comments are ignored', "-- it's\nSELECT 1; /* don't */ SELECT 2;", ['SELECT 1', 'SELECT 2']],
    ['CRLF is read as LF', 'SELECT 1;\r\nSELECT\r\n 2;\r\n', ['SELECT 1', 'SELECT\n 2']],
    ['a multi-line string keeps its newlines', "SELECT 'a\nb;c';", ["SELECT 'a\nb;c'"]],
    ['a byte-order mark is dropped', '\uFEFFSELECT 1;', ['SELECT 1']],
  ])('%s', (_, script, expected) => {
    expect(sqls(script)).toEqual(expected);
  });

  it('changes the terminator with DELIMITER for a procedure and a trigger', () => {
    const script = [
      'DELIMITER $$',
      'CREATE PROCEDURE p()',
      'BEGIN',
      '  INSERT INTO t VALUES (1);',
      "  SELECT '$$ inside';",
      'END$$',
      'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW',
      'BEGIN',
      '  SET NEW.x = NEW.x + 1;',
      'END $$',
      'delimiter ;',
      'CALL p();',
    ].join('\n');
    expect(splitSql(script)).toEqual([
      { sql: "CREATE PROCEDURE p()\nBEGIN\n  INSERT INTO t VALUES (1);\n  SELECT '$$ inside';\nEND", line: 2 },
      { sql: 'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.x = NEW.x + 1;\nEND', line: 7 },
      { sql: 'CALL p()', line: 12 },
    ]);
  });

  it.each<[string, string, string[]]>([
    ['a quoted delimiter', "DELIMITER '//'\nSELECT 1//\nDELIMITER ;\nSELECT 2;", ['SELECT 1', 'SELECT 2']],
    ['a multi-character delimiter with CRLF', 'DELIMITER ;;\r\nSELECT 1;;\r\nDELIMITER ;\r\nSELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['indented DELIMITER', '  DELIMITER //\nSELECT 1;//', ['SELECT 1;']],
    ['DELIMITER after unterminated text flushes it first', 'SELECT 1\nDELIMITER //\nSELECT 2//', ['SELECT 1', 'SELECT 2']],
    ['DELIMITER inside a string is text', "SELECT '\nDELIMITER //\n';", ["SELECT '\nDELIMITER //\n'"]],
    ['DELIMITER inside a comment is text', '/*\nDELIMITER //\n*/SELECT 1;', ['SELECT 1']],
    ['DELIMITER not at the start of a line is text', 'SELECT 1 DELIMITER //;', ['SELECT 1 DELIMITER //']],
    ['DELIMITER without a space is text', 'DELIMITER;', ['DELIMITER']],
  ])('%s', (_, script, expected) => {
    expect(sqls(script)).toEqual(expected);
  });

  it('numbers each statement by the line its first token is on, past comments and CRLF', () => {
    const script = "-- header\r\n\r\nSELECT 1;  /* x\r\n */ SELECT\r\n2;\r\n# c\r\nSELECT 'a\nb';\nSELECT 3;";
    expect(splitSql(script).map((s) => s.line)).toEqual([3, 4, 7, 9]);
  });

  it('counts the lines of an escaped newline inside a string', () => {
    expect(splitSql("SELECT 'a\\\nb';\nSELECT 2;").map((s) => s.line)).toEqual([1, 3]);
  });

  it.each([
    ['DELIMITER   \nSELECT 1;', 'line 1'],
    ['SELECT 1;\nDELIMITER \\\\\n', 'backslash'],
  ])('refuses a bad DELIMITER command (%j)', (script, text) => {
    expect(() => splitSql(script)).toThrow(InputError);
    expect(() => splitSql(script)).toThrow(text);
  });

  it('returns nothing for a script of comments only', () => {
    expect(splitSql('-- a\n# b\n/* c */\n')).toEqual([]);
  });
});
