import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { parseEnvelope } from '../../../lib/wecube/envelope.js';
import { describeJsonProblem, locateJsonProblem } from '../../../lib/text/json-problem.js';
import { validateItem } from '../../../lib/input/validate-item.js';
import { releaseInput } from '../../../lib/releases/release-request.js';

const SECRET = 'Pw-7f3k-S3cr3t';

describe('locateJsonProblem: where a text stops being JSON, without quoting it', () => {
  it.each<[string, string, string]>([
    ['an unquoted value', `{"password": ${SECRET}}`, 'at character 14 (in password): a value was expected (a string must be in double quotes)'],
    ['an unterminated string', `{"a":1,"password":"${SECRET}`, 'at character 34 (in password): unterminated string'],
    ['a bad escape', `{"password":"${SECRET}\\x"}`, 'at character 28 (in password): bad escape in a string'],
    ['a raw newline in a string', `{"password":"a\n${SECRET}"}`, 'at character 15 (in password): control character in a string (escape it)'],
    ['text after a string value', `{"password":"ab"${SECRET}"}`, 'at character 17 (in password): "," or "}" was expected'],
    ['a trailing comma', `{"inputs":[{"password":"x"},]}`, 'at character 29 (in inputs[1]): a trailing comma before "]"'],
    ['a key without quotes', `{"a":1, ${SECRET}:2}`, 'at character 9 (after key "a"): a key in double quotes was expected'],
    ['a missing colon', `{"inputs":[{"password" "${SECRET}"}]}`, 'at character 24 (in inputs[0].password): ":" was expected after the key'],
    ['a value piece read as a key is not shown', `{"pw":"ab", "${SECRET} with spaces"}`, 'at character 41 (in <key>): ":" was expected after the key'],
    ['the text ending inside an array', `[1, 2`, 'at character 6 (in [1]): the text ended where "," or "]" was expected'],
    ['two values', `{} ${SECRET}`, 'at character 4: unexpected text after the JSON value'],
    ['bare text', SECRET, 'at character 1: a value was expected (a string must be in double quotes)'],
  ])('%s', (_name, text, expected) => {
    expect(() => JSON.parse(text)).toThrow(); // the premise: JSON.parse refuses it (and would quote it)
    expect(describeJsonProblem(text)).toBe(expected);
    expect(describeJsonProblem(text)).not.toContain(SECRET.slice(3, 9));
  });

  it('finds nothing wrong in valid JSON, and gives up on absurd nesting without recursing forever', () => {
    expect(locateJsonProblem('{"a":[1,{"b":null}],"c":"\\u00e9"}')).toBeUndefined();
    expect(locateJsonProblem('['.repeat(100_000))?.reason).toMatch(/nested deeper than/);
  });
});

describe('request errors never quote a secret value', () => {
  it.each<[string, string]>([
    ['a body cut in a password', `{"inputs":[{"password":"${SECRET}`],
    ['a password without quotes', `{"inputs":[{"password":${SECRET}}]}`],
    ['a body that is the secret', SECRET],
  ])('parseEnvelope: %s', (_name, body) => {
    let message = '';
    try {
      parseEnvelope(body);
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Request body is not valid JSON: at character \d+/);
    expect(message).not.toContain(SECRET.slice(3, 9));
  });

  const base = { destinationPath: '/srv/app/', userName: 'app', startScript: 'bin/start.sh', endpoint: 's3://b/k.tgz', targets: ['h1'] };
  it.each<[string, Record<string, unknown>]>([
    ['a password of the wrong type', { password: [SECRET] }],
    ['a seed of the wrong type', { seed: { value: SECRET } }],
    ['a variableList of the wrong type', { variableList: [{ key: 'db_password', value: SECRET }] }],
    ['a bad mode next to a password', { mode: SECRET, password: SECRET }],
    ['a bad strategy next to a private key', { strategy: { batchSize: SECRET }, sysPrivateKey: SECRET }],
    ['a bad target next to a password', { targets: 'h1,;rm', password: SECRET }],
  ])('validateItem (zod): %s', (_name, fields) => {
    let message = '';
    try {
      validateItem(releaseInput, { ...base, ...fields });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Parameter \S+ (validation failed|can not empty)/);
    expect(message).not.toContain(SECRET.slice(3, 9));
  });
});
