import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { InputError } from '../../../lib/errors.js';
import { commonFields, looseString, requiredString, safeToken } from '../../../lib/input/fields.js';
import { validateItem } from '../../../lib/input/validate-item.js';

const schema = z.object({
  ...commonFields,
  target: safeToken('target'),
  port: looseString(),
  user: requiredString(),
  mode: looseString().refine((v) => v === undefined || /^[0-7]{3,4}$/.test(v), { message: 'must be an octal mode' }),
});

const good = { guid: 'g1', target: '10.0.0.1', user: 'app' };

describe('validateItem', () => {
  it('accepts numbers and booleans for string fields and gives strings', () => {
    expect(validateItem(schema, { ...good, port: 3306, guid: 42, user: true })).toEqual({ guid: '42', target: '10.0.0.1', port: '3306', user: 'true' });
  });

  it('treats null as absent', () => {
    const item = validateItem(schema, { ...good, port: null, callbackParameter: null });
    expect(item.port).toBeUndefined();
    expect(item.callbackParameter).toBeUndefined();
  });

  it('ignores unknown keys', () => {
    expect(validateItem(schema, { ...good, extra: 'x' })).not.toHaveProperty('extra');
  });

  it.each([
    ['missing', {}],
    ['null', { user: null }],
    ['empty', { user: '' }],
    ['blank', { user: '   ' }],
  ])('gives "Parameter user can not empty." when user is %s', (_name, patch) => {
    const raw: Record<string, unknown> = { ...good, ...patch };
    if (!('user' in patch)) delete raw['user'];
    expect(() => validateItem(schema, raw)).toThrow(new InputError('Parameter user can not empty.'));
  });

  it('names the first failing field when several are missing', () => {
    expect(() => validateItem(schema, { guid: 'g' })).toThrow(/^Parameter (target|user) can not empty\.$/);
  });

  it.each([
    ['a string', 'just text'],
    ['a number', 7],
    ['null', null],
    ['an array', [good]],
    ['undefined', undefined],
  ])('rejects an item that is %s as not an object', (_name, raw) => {
    expect(() => validateItem(schema, raw)).toThrow(new InputError('Input item must be a JSON object.'));
  });

  it.each([
    ['an object', { a: 1 }, 'object'],
    ['an array', ['3306'], 'array'],
  ])('names the field and the type when a string field gets %s', (_name, port, type) => {
    expect(() => validateItem(schema, { ...good, port })).toThrow(`Parameter port validation failed: wrong type (${type})`);
  });

  it('passes a refinement message through with the field name', () => {
    expect(() => validateItem(schema, { ...good, mode: '999' })).toThrow('Parameter mode validation failed: must be an octal mode');
  });

  it('passes safeToken messages through with the field name', () => {
    expect(() => validateItem(schema, { ...good, target: '1.2.3.4`id`' })).toThrow('Parameter target validation failed: target contains an illegal character');
  });
});
