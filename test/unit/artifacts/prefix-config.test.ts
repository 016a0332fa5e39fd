import { describe, expect, it } from '@jest/globals';
import { combinedPrefixes, escapeMatcher, parseEscapeList, parsePrefixList, prefixProblem } from '../../../lib/artifacts/placeholder-prefixes.js';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { splitList } from '../../../lib/text/split-list.js';

const base = { STAGE: 'local', AUTH_MODE: 'off' };

describe('placeholder prefix settings', () => {
  it('default to upstream register.xml values', () => {
    const config = loadConfig(base);
    expect(config.placeholders).toEqual({ plain: ['@', '#'], doubleRsa: ['!', '%'], singleRsa: ['+'], file: ['^'] });
    expect(config.variableNullCheck).toBe(false);
  });

  it('come from the upstream variable names, trimmed, empties dropped', () => {
    const config = loadConfig({
      ...base,
      SALTSTACK_DEFAULT_SPECIAL_REPLACE: '@, $$,',
      SALTSTACK_ENCRYPT_VARIBLE_PREFIX: '!',
      SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX: '~',
      SALTSTACK_FILE_VARIBLE_PREFIX: '^^',
    });
    expect(config.placeholders).toEqual({ plain: ['@', '$$'], doubleRsa: ['!'], singleRsa: ['~'], file: ['^^'] });
    expect(combinedPrefixes(config.placeholders).map((p) => `${p.kind}:${p.text}`)).toEqual(['plain:@', 'plain:$$', 'double-rsa:!', 'single-rsa:~', 'file:^^']);
  });

  it.each([
    ['SALTSTACK_VARIABLE_NULL_CHECK', 'Y', true],
    ['SALTSTACK_VARIABLE_NULL_CHECK', 'yes', true],
    ['VARIABLE_NULL_CHECK', 'true', true],
    ['VARIABLE_NULL_CHECK', 'N', false],
  ])('%s=%s sets the null check to %s', (name, value, expected) => {
    expect(loadConfig({ ...base, [name]: value }).variableNullCheck).toBe(expected);
  });

  it.each([
    ['a duplicate across lists', { SALTSTACK_FILE_VARIBLE_PREFIX: '@' }, 'placeholder prefix "@" appears more than once'],
    ['a bracket in a prefix', { SALTSTACK_DEFAULT_SPECIAL_REPLACE: '[' }, 'placeholder prefix "[" contains a bracket or a space'],
  ])('refuse %s at start-up, naming the variables', (_name, env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
    expect(() => loadConfig({ ...base, ...env })).toThrow('SALTSTACK_DEFAULT_SPECIAL_REPLACE');
  });

  it('parsePrefixList falls back only when the value is blank', () => {
    expect(parsePrefixList('  ', ['@'])).toEqual(['@']);
    expect(parsePrefixList(undefined, ['@'])).toEqual(['@']);
    expect(parsePrefixList('#', ['@'])).toEqual(['#']);
    expect(prefixProblem({ plain: [], doubleRsa: [], singleRsa: [], file: [] })).toBe('no placeholder prefix is configured');
  });
});

describe('splitList (upstream splitWithCustomFlag)', () => {
  it.each<[string | undefined, string[]]>([
    ['a,b|c', ['a', 'b', 'c']],
    ['a,,b', ['a', 'b']],
    ['|a|', ['a']],
    ['a, b', ['a', 'b']],
    ['', []],
    [undefined, []],
  ])('%j', (text, expected) => {
    expect(splitList(text)).toEqual(expected);
  });
});

describe('SALTSTACK_ENCRYPT_ESCAPE_PREFIX (upstream §8.6)', () => {
  it('reads unset or blank as [""], which escapes every key; otherwise splits on , untrimmed', () => {
    expect(parseEscapeList(undefined)).toEqual(['']);
    expect(parseEscapeList(' ')).toEqual(['']);
    expect(parseEscapeList('\\+skip_, x')).toEqual(['\\+skip_', ' x']);
    expect(escapeMatcher(['']).escapes('+db_pw')).toBe(true);
  });

  it("escapes by upstream's regex ^(e1|e2)\\w*, tested on the prefix and name", () => {
    const { escapes } = escapeMatcher(['\\+skip', '\\+tmp']);
    expect([escapes('+skip_pw'), escapes('+tmp1'), escapes('+db_pw'), escapes('skip')]).toEqual([true, true, false, false]);
  });

  it('escapes nothing (upstream encrypts) when the list is not a regex, and says why', () => {
    const m = escapeMatcher(['+bad']);
    expect(m.escapes('+bad')).toBe(false);
    expect(m.problem).toMatch(/^SALTSTACK_ENCRYPT_ESCAPE_PREFIX is not a valid regex/);
  });
});
