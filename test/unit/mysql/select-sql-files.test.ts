import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { matchesSqlFile, selectSqlFiles } from '../../../lib/mysql/select-sql-files.js';

const entries = ['db/002_data.sql', 'db/001_schema.sql', 'db/010_more.sql', 'db/sub/003.sql', 'README.md', 'init.sql', 'db/a?b.sql'];

describe('selectSqlFiles', () => {
  it.each<[string[], string[]]>([
    [['db/*.sql'], ['db/001_schema.sql', 'db/002_data.sql', 'db/010_more.sql', 'db/a?b.sql']],
    [
      ['init.sql', 'db/00?_*.sql'],
      ['init.sql', 'db/001_schema.sql', 'db/002_data.sql'],
    ],
    [['./init.sql'], ['init.sql']],
    [['db/*/*.sql'], ['db/sub/003.sql']],
    [
      ['db/002_data.sql', 'db/*.sql'],
      ['db/002_data.sql', 'db/001_schema.sql', 'db/010_more.sql', 'db/a?b.sql'],
    ],
    [['*.md'], ['README.md']],
  ])('picks %j as %j', (patterns, expected) => {
    expect(selectSqlFiles(entries, patterns)).toEqual(expected);
  });

  it('sorts glob matches by byte order, as ls | sort in the C locale', () => {
    expect(selectSqlFiles(['b.sql', 'B.sql', 'a.sql', '_.sql'], ['*.sql'])).toEqual(['B.sql', '_.sql', 'a.sql', 'b.sql']);
  });

  it.each<[string[], string]>([
    [['missing.sql'], 'File missing.sql does not exist.'],
    [['db/*.txt'], 'Try to find db/*.txt sql file fail,can not fetch any file'],
    [['../etc/*.sql'], 'Parameter sql_files validation failed: ../etc/*.sql leaves the archive'],
    [['db/sub'], 'File db/sub does not exist.'],
  ])('refuses %j', (patterns, message) => {
    expect(() => selectSqlFiles(entries, patterns)).toThrow(InputError);
    expect(() => selectSqlFiles(entries, patterns)).toThrow(message);
  });

  it.each<[string, string, boolean]>([
    ['db/*.sql', 'db/x.sql', true],
    ['db/*.sql', 'db/sub/x.sql', false],
    ['*.sql', 'x.sql.bak', false],
    ['x.sql', './x.sql', true],
    ['db/[ab].sql', 'db/a.sql', false],
    ['db/[ab].sql', 'db/[ab].sql', true],
  ])('matchesSqlFile(%j, %j) is %s', (pattern, path, expected) => {
    expect(matchesSqlFile(pattern, path)).toBe(expected);
  });
});
