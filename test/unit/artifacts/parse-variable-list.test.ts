import { describe, expect, it } from '@jest/globals';
import { parseVariableList, plainPairs } from '../../../lib/artifacts/parse-variable-list.js';
import { combinedPrefixes, DEFAULT_PREFIXES } from '../../../lib/artifacts/placeholder-prefixes.js';
import { encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { InputError, SecretError } from '../../../lib/errors.js';

const SEED = 'abc12345';
const options = (extra: Partial<Parameters<typeof parseVariableList>[1]> = {}) => ({
  seed: SEED,
  prefixes: combinedPrefixes(DEFAULT_PREFIXES),
  nullCheck: false,
  ...extra,
});
const parse = (text: string, extra: Partial<Parameters<typeof parseVariableList>[1]> = {}) =>
  Object.fromEntries(parseVariableList(text, options(extra)));
/** The legacy wire form: keys and values joined with `,\x01`, the halves with `\x01=\x01`. */
const legacy = (keys: string[], values: string[]) => `${keys.join(',\x01')}\x01=\x01${values.join(',\x01')}`;

describe('parseVariableList: legacy \\x01 format', () => {
  it.each<[string, string, Record<string, string>]>([
    ['keys are lower-cased', legacy(['Port', 'HOST'], ['8080', 'db']), { port: '8080', host: 'db' }],
    ['= and , inside values are fine', legacy(['url', 'list'], ['a=b', 'x,y']), { url: 'a=b', list: 'x,y' }],
    ['the first prefix of a key is dropped', legacy(['@port', '!pw', '^conf/a.jks', '@@x'], ['1', '2', 'u', '3']), { port: '1', pw: '2', 'conf/a.jks': 'u', '@x': '3' }],
    ['duplicates: the last one wins', legacy(['a', 'A', 'a'], ['1', '2', '3']), { a: '3' }],
    ['NULL\\x01 is empty without the null check', legacy(['a', 'b'], ['NULL\x01', 'x']), { a: '', b: 'x' }],
    ['an empty value before &\\x01 is empty', legacy(['a'], ['&\x01g1']), { a: '' }],
    ['a plain value with &\\x01<guid> stays as is (nothing to decrypt)', legacy(['a'], ['plain&\x01g1']), { a: 'plain' }],
  ])('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it('decrypts {cipher_a} values with their own guid and reports them as secrets', () => {
    const secrets: string[] = [];
    const text = legacy(['db_pw', 'other'], [`${encodeCipherA('g-7', SEED, 's3cr3t!')}&\x01g-7`, 'x']);
    expect(parse(text, { onSecret: (v) => secrets.push(v) })).toEqual({ db_pw: 's3cr3t!', other: 'x' });
    expect(secrets).toEqual(['s3cr3t!']);
  });

  it.each<[string, string, string, typeof InputError | typeof SecretError]>([
    ['two separators', 'a\x01=\x01b\x01=\x01c', "VarialbeList(a\x01=\x01b\x01=\x01c) format error,can not find '='", InputError],
    ['more keys than values', legacy(['a', 'b'], ['1']), `VarialbeList(${legacy(['a', 'b'], ['1'])}) format error,keys num != value num`, InputError],
    ['NULL with the null check', legacy(['a'], ['NULL\x01']), 'Variable a value is NULL ', InputError],
    ['an encrypted value without guid', legacy(['a'], ['x&\x01']), 'GetRawKeyValue key=a,value=x&\x01 format error,encrypt value should contain guid message', InputError],
    ['three parts', legacy(['a'], ['x&\x01y&\x01z']), 'GetRawKeyValue key=a,value=x&\x01y&\x01z format error,encrypt value should contain guid message', InputError],
    ['a value that does not decrypt', legacy(['a'], [`${encodeCipherA('g1', SEED, 'pw')}&\x01other-guid`]), `Decode key=a value=${encodeCipherA('g1', SEED, 'pw')}&\x01other-guid password fail,password wrong `, SecretError],
  ])('refuses %s', (_name, text, message, type) => {
    const nullCheck = message.includes('NULL');
    expect(() => parse(text, { nullCheck })).toThrow(type);
    expect(() => parse(text, { nullCheck })).toThrow(message);
  });
});

describe('parseVariableList: JSON format', () => {
  it.each<[string, string, Record<string, string>]>([
    ['key/value objects', '[{"key":"Port","value":"8080"},{"key":"@host","value":"db"}]', { port: '8080', host: 'db' }],
    ['numbers, booleans and null as values', '[{"key":"n","value":3306},{"key":"b","value":true},{"key":"z","value":null}]', { n: '3306', b: 'true', z: '' }],
    ['NULL\\x01 is not special', '[{"key":"a","value":"NULL\\u0001"}]', { a: 'NULL\x01' }],
    ['the last duplicate wins', '[{"key":"a","value":"1"},{"key":"A","value":"2"}]', { a: '2' }],
    ['an empty list', '[]', {}],
  ])('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it('decrypts &\\x01<guid> values', () => {
    const value = `${encodeCipherA('g2', SEED, 'pw-2')}&\x01g2`;
    expect(parse(JSON.stringify([{ key: 'pw', value }]))).toEqual({ pw: 'pw-2' });
  });

  it.each<[string, string, RegExp]>([
    ['broken JSON', '[{"key":"a"', /^variableList json unmarshal fail,.+ $/],
    ['an object instead of an array', '{"key":"a","value":"b"}', /^variableList json unmarshal fail,expected an array/],
    ['an element that is not an object', '["a=b"]', /^variableList json unmarshal fail,element 1 is not/],
    ['a guid-less encrypted value', '[{"key":"a","value":"x&\\u0001"}]', /^Try to get decode value fail,GetRawKeyValue key=a,value=x&\x01 format error/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parse(text)).toThrow(message);
  });
});

describe('parseVariableList: plain name=value format (old API guide)', () => {
  it.each<[string, string, Record<string, string>]>([
    ['the guide example', 'name=tom, Age=10', { name: 'tom', age: '10' }],
    ['one pair', 'port=8080', { port: '8080' }],
    ['double-quoted values with commas and escapes', 'msg="a, b", q="say \\"hi\\" \\\\ ok"', { msg: 'a, b', q: 'say "hi" \\ ok' }],
    ["single-quoted values taken literally", "p='x,\\y'", { p: 'x,\\y' }],
    ['= inside a value', 'url=jdbc:mysql://h:3306/db?a=b', { url: 'jdbc:mysql://h:3306/db?a=b' }],
    ['empty values and a trailing comma', 'a=, b=2,', { a: '', b: '2' }],
    ['prefixed names', '@port=1, !pw=2', { port: '1', pw: '2' }],
  ])('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['a piece without =', 'a=1, oops', 'variableList(a=1, oops) format error,"oops" is not name=value'],
    ['an unterminated quote', 'a="x', 'variableList(a="x) format error,the value of a has no closing "'],
    ['text after a quoted value', 'a="x" y, b=1', 'variableList(a="x" y, b=1) format error,unexpected "y" after the quoted value of a'],
    ['a nameless value', '=1', 'variableList(=1) format error,a value has no name'],
  ])('refuses %s', (_name, text, message) => {
    expect(() => plainPairs(text)).toThrow(message);
    expect(() => plainPairs(text)).toThrow(InputError);
  });
});
