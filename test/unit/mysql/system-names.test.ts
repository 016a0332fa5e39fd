import { describe, expect, it } from '@jest/globals';
import { systemAccountProblem, systemSchemaProblem } from '../../../lib/mysql/system-names.js';

describe('system schemas and accounts of the server', () => {
  it.each([
    ['mysql', 'mysql'],
    ['MYSQL', 'mysql'],
    [' `mysql` ', 'mysql'],
    ['sys', 'sys'],
    ['Information_Schema', 'information_schema'],
    ['performance_schema', 'performance_schema'],
  ])('refuses to drop the schema %j', (name, canonical) => {
    expect(systemSchemaProblem(name)).toBe(`${canonical} is a system schema of the server; it is never dropped`);
  });

  it.each([['mysql_app'], ['my`sql'], ['sysadmin'], ['app'], ['information_schema2']])('allows the schema %j', (name) => {
    expect(systemSchemaProblem(name)).toBeUndefined();
  });

  it.each([['root'], ['Root'], ['mysql.sys'], ['mysql.session'], ['mysql.infoschema'], ['mariadb.sys'], ['`root`']])(
    'refuses to drop the account %j',
    (name) => {
      expect(systemAccountProblem(name)).toMatch(/is a system account of the server; it is never dropped$/);
    },
  );

  it.each([['rooted'], ['app'], ['mysql'], ['mysql.sys2']])('allows the account %j', (name) => {
    expect(systemAccountProblem(name)).toBeUndefined();
  });
});
