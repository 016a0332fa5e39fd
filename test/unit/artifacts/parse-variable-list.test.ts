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
const parse = (text: string, extra: Partial<Parameters<typeof parseVariableList>[1]> = {}) => Object.fromEntries(parseVariableList(text, options(extra)));
/** The legacy wire form: keys and values joined with `,\x01`, the halves with `\x01=\x01`. */
const legacy = (keys: string[], values: string[]) => `${keys.join(',\x01')}\x01=\x01${values.join(',\x01')}`;

describe('parseVariableList: legacy \\x01 format', () => {
  it.each<[string, string, Record<string, string>]>([
    ['keys are lower-cased', legacy(['Port', 'HOST'], ['8080', 'db']), { port: '8080', host: 'db' }],
    ['= and , inside values are fine', legacy(['url', 'list'], ['a=b', 'x,y']), { url: 'a=b', list: 'x,y' }],
    [
      'the first prefix of a key is dropped',
      legacy(['@port', '!pw', '^conf/a.jks', '@@x'], ['1', '2', 'u', '3']),
      { port: '1', pw: '2', 'conf/a.jks': 'u', '@x': '3' },
    ],
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
    [
      'two separators',
      'a\x01=\x01b\x01=\x01c',
      "VarialbeList format error at character 6: can not find '=' (the \\x01=\\x01 separator appears 2 times, once expected)",
      InputError,
    ],
    ['more keys than values', legacy(['a', 'b'], ['1']), 'VarialbeList format error: keys num != value num (2 keys, 1 values)', InputError],
    ['NULL with the null check', legacy(['a'], ['NULL\x01']), 'Variable a value is NULL ', InputError],
    [
      'an encrypted value without guid',
      legacy(['a'], ['x&\x01']),
      'GetRawKeyValue key=a format error,encrypt value should contain guid message (<ciphertext>&\\x01<guid>; 1 separators found)',
      InputError,
    ],
    [
      'three parts',
      legacy(['a'], ['x&\x01y&\x01z']),
      'GetRawKeyValue key=a format error,encrypt value should contain guid message (<ciphertext>&\\x01<guid>; 2 separators found)',
      InputError,
    ],
    [
      'a value that does not decrypt',
      legacy(['a'], [`${encodeCipherA('g1', SEED, 'pw')}&\x01other-guid`]),
      'Decode key=a password fail,password wrong ',
      SecretError,
    ],
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
    ['broken JSON', '[{"key":"a"', /^variableList json unmarshal fail,at character 12 \(element 1, key "a"\): the text ended where "," or "}" was expected $/],
    ['an object instead of an array', '{"key":"a","value":"b"}', /^variableList json unmarshal fail,expected an array/],
    ['an element that is not an object', '["a=b"]', /^variableList json unmarshal fail,element 1 is not/],
    ['a guid-less encrypted value', '[{"key":"a","value":"x&\\u0001"}]', /^Try to get decode value fail,GetRawKeyValue key=a format error/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parse(text)).toThrow(message);
  });
});

describe('parseVariableList: plain name=value format (old API guide)', () => {
  it.each<[string, string, Record<string, string>]>([
    ['the guide example', 'name=tom, Age=10', { name: 'tom', age: '10' }],
    ['one pair', 'port=8080', { port: '8080' }],
    ['double-quoted values with commas and escapes', 'msg="a, b", q="say \\"hi\\" \\\\ ok"', { msg: 'a, b', q: 'say "hi" \\ ok' }],
    ['single-quoted values taken literally', "p='x,\\y'", { p: 'x,\\y' }],
    ['= inside a value', 'url=jdbc:mysql://h:3306/db?a=b', { url: 'jdbc:mysql://h:3306/db?a=b' }],
    ['empty values and a trailing comma', 'a=, b=2,', { a: '', b: '2' }],
    ['prefixed names', '@port=1, !pw=2', { port: '1', pw: '2' }],
  ])('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    [
      'a piece without =',
      'a=1, oops',
      'variableList format error at character 6 (after key "a"): a piece without "=" is not name=value (quote a value that holds a comma)',
    ],
    ['an unterminated quote', 'a="x', 'variableList format error at character 3: the value of "a" has no closing "'],
    ['text after a quoted value', 'a="x" y, b=1', 'variableList format error at character 7: unexpected text after the quoted value of "a"'],
    ['a nameless value', 'b=2, =1', 'variableList format error at character 6 (after key "b"): a value has no name'],
  ])('refuses %s', (_name, text, message) => {
    expect(() => plainPairs(text)).toThrow(message);
    expect(() => plainPairs(text)).toThrow(InputError);
  });
});

/** A distinctive secret that must never be quoted back, in every malformed shape a caller may send. */
const SECRET = 'Zq9-S3cr3t-v4lue';
const cipher = encodeCipherA('g-9', SEED, SECRET);

describe('parseVariableList: errors name positions and keys, never values', () => {
  it.each<[string, string, RegExp]>([
    [
      'plain: a secret with a comma, unquoted',
      `user=bob, db_password=${SECRET},tail, x=1`,
      /^variableList format error at character 40 \(after key "db_password"\): a piece without "="/,
    ],
    [
      'plain: a secret with an unclosed quote',
      `user=bob, db_password="${SECRET}`,
      /^variableList format error at character 23 \(after key "user"\): the value of "db_password" has no closing "/,
    ],
    [
      'plain: text after a quoted secret',
      `db_password="${SECRET.slice(0, 6)}"${SECRET.slice(6)}`,
      /^variableList format error at character 21: unexpected text after the quoted value of "db_password"/,
    ],
    ['legacy: two separators in a secret', legacy(['db_password'], [`${SECRET}\x01=\x01x`]), /^VarialbeList format error at character 31: can not find '='/],
    ['legacy: count mismatch', legacy(['db_password', 'b'], [SECRET]), /^VarialbeList format error: keys num != value num \(2 keys, 1 values\)$/],
    ['legacy: a ciphertext without guid', legacy(['db_password'], [`${cipher}&\x01`]), /^GetRawKeyValue key=db_password format error/],
    ['legacy: a secret with two guid separators', legacy(['db_password'], [`${SECRET}&\x01a&\x01b`]), /^GetRawKeyValue key=db_password format error/],
    [
      'legacy: a ciphertext under the wrong guid',
      legacy(['db_password'], [`${cipher}&\x01wrong-guid`]),
      /^Decode key=db_password password fail,password wrong $/,
    ],
    [
      'JSON: the secret unquoted',
      `[{"key":"db_password","value":${SECRET}}]`,
      /^variableList json unmarshal fail,at character 31 \(element 1, key "db_password"\): a value was expected/,
    ],
    [
      'JSON: an unterminated secret',
      `[{"key":"a","value":"1"},{"key":"db_password","value":"${SECRET}`,
      /^variableList json unmarshal fail,at character 72 \(element 2, key "db_password"\): unterminated string $/,
    ],
    [
      'JSON: a bad escape in the secret',
      `[{"key":"db_password","value":"${SECRET}\\q"}]`,
      /^variableList json unmarshal fail,at character 48 \(element 1, key "db_password"\): bad escape in a string $/,
    ],
    [
      'JSON: a secret after a broken quote',
      `[{"key":"db_password","value":"ab"${SECRET}"}]`,
      /^variableList json unmarshal fail,at character 35 \(element 1, key "db_password"\): "," or "}" was expected $/,
    ],
    [
      'JSON: the secret as a key',
      `[{"key":"p","${SECRET}"}]`,
      /^variableList json unmarshal fail,at character 31 \(element 1, key "p"\): ":" was expected after the key $/,
    ],
    [
      'JSON: a ciphertext under the wrong guid',
      JSON.stringify([{ key: 'db_password', value: `${cipher}&\x01wrong-guid` }]),
      /^Try to get decode value fail,Decode key=db_password password fail,password wrong {2}$/,
    ],
  ])('%s', (_name, text, message) => {
    let caught: unknown;
    try {
      parse(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    const text2 = (caught as Error).message;
    expect(text2).toMatch(message);
    for (const piece of [SECRET, SECRET.slice(0, 6), SECRET.slice(6), cipher, cipher.slice(10, 30)]) expect(text2).not.toContain(piece);
  });

  it('reports plain values under secret-looking names as secrets (to be redacted), and decrypted ones', () => {
    const seen: string[] = [];
    parse(`port=8080, db_password=${SECRET}, api_token="t0k-en-1"`, { onSecret: (v) => seen.push(v) });
    parse(JSON.stringify([{ key: 'x', value: `${cipher}&\x01g-9` }]), { onSecret: (v) => seen.push(v) });
    expect(seen).toEqual([SECRET, 't0k-en-1', SECRET]);
  });
});
