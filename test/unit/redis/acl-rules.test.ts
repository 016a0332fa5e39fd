import { describe, expect, it } from '@jest/globals';
import { aclSetUserRules, patternIsIllegal, USER_COMMANDS } from '../../../lib/redis/acl-rules.js';

const commands = USER_COMMANDS.map((c) => `+${c.toLowerCase()}`);

describe('aclSetUserRules', () => {
  it('gives a new user its password, exactly upstream command set and its read/write patterns', () => {
    expect(aclSetUserRules({ password: 'pw', readPatterns: ['app:*', 'cfg:*'], writePatterns: ['app:*'], exists: false })).toEqual([
      'on',
      'resetpass',
      '>pw',
      '-@all',
      ...commands,
      'resetkeys',
      '%R~app:*',
      '%R~cfg:*',
      '%W~app:*',
    ]);
  });

  it('keeps each value one argument, so a pattern or password cannot add rules', () => {
    const rules = aclSetUserRules({ password: 'p w +@all', readPatterns: ['a ~* +@all'], writePatterns: [], exists: false });
    expect(rules).toContain('>p w +@all');
    expect(rules).toContain('%R~a ~* +@all');
    expect(rules).not.toContain('+@all');
  });

  it('leaves the password and patterns of an existing user alone when none are given', () => {
    expect(aclSetUserRules({ readPatterns: [], writePatterns: [], exists: true })).toEqual(['on', '-@all', ...commands]);
  });

  it('replaces the password and the patterns of an existing user when given', () => {
    expect(aclSetUserRules({ password: 'n', readPatterns: [], writePatterns: ['w:*'], exists: true })).toEqual([
      'on',
      'resetpass',
      '>n',
      '-@all',
      ...commands,
      'resetkeys',
      '%W~w:*',
    ]);
  });

  it('has upstream 35 commands and nothing administrative', () => {
    expect(USER_COMMANDS).toHaveLength(35);
    for (const c of ['FLUSHALL', 'CONFIG', 'ACL', 'KEYS', 'EVAL', 'SHUTDOWN']) expect(USER_COMMANDS).not.toContain(c);
  });
});

describe('patternIsIllegal', () => {
  it.each<[string, boolean]>([
    ['app:*', false],
    ['user:{id}:[ab]?', false],
    ['app：*', true],
    ['app，x', true],
    ['a b', true],
    ['a\tb', true],
    ['a\u0000', true],
  ])('%j is illegal: %s', (pattern, illegal) => {
    expect(patternIsIllegal(pattern)).toBe(illegal);
  });
});
