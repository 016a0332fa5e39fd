import { describe, expect, it } from '@jest/globals';
import { EMPTY, commonFields, looseString, requiredString, safeToken } from '../../../lib/input/fields.js';

describe('looseString', () => {
  it.each([
    ['a string', 'abc', 'abc'],
    ['an empty string', '', ''],
    ['an integer', 3306, '3306'],
    ['a decimal', 1.5, '1.5'],
    ['zero', 0, '0'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['null (absent)', null, undefined],
    ['undefined (absent)', undefined, undefined],
  ])('turns %s into %j', (_name, value, expected) => {
    expect(looseString().parse(value)).toBe(expected);
  });

  it.each([
    ['an object', { a: 1 }],
    ['an array', ['a']],
  ])('rejects %s', (_name, value) => {
    expect(looseString().safeParse(value).success).toBe(false);
  });
});

describe('requiredString', () => {
  it.each([
    ['absent', undefined],
    ['null', null],
    ['empty', ''],
    ['blank', ' \t '],
  ])('refuses a value that is %s with the EMPTY marker', (_name, value) => {
    const result = requiredString().safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(EMPTY);
  });

  it('accepts a number and gives a string', () => {
    expect(requiredString().parse(22)).toBe('22');
  });
});

describe('safeToken', () => {
  it.each([["'"], ['"'], ['`'], ['\0'], ['\n'], ['\r']])('rejects a value containing %j and names the field', (ch) => {
    const result = safeToken('target').safeParse(`10.0.0.1${ch}`);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('target contains an illegal character');
  });

  it('accepts an IP address', () => {
    expect(safeToken('target').parse('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('commonFields', () => {
  it('makes guid and callbackParameter optional loose strings', () => {
    expect(commonFields.guid.parse(17)).toBe('17');
    expect(commonFields.callbackParameter.parse(null)).toBeUndefined();
  });
});
