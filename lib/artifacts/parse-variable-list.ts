import { decodeCipherA } from '../crypto/cipher-a.js';
import { InputError, SecretError } from '../errors.js';
import { isSecretKey } from '../log/redactor.js';
import { locateJsonProblem, shownName } from '../text/json-problem.js';
import type { Prefix } from './placeholder-prefixes.js';

const KEY_VALUE = '\x01=\x01';
const ITEM = ',\x01';
const ENCRYPTED = '&\x01';
const NULL_VALUE = 'NULL\x01';

export interface VariableListOptions {
  /** The resolved AES seed for `<cipher>&\x01<guid>` values. */
  seed: string;
  /** The combined prefix list: a key loses the first prefix it starts with (`@port` is `port`). */
  prefixes: readonly Prefix[];
  /** `NULL\x01` values are an error instead of empty (legacy format only, as upstream). */
  nullCheck: boolean;
  /**
   * Called with every value that was decrypted, and every plain value under a secret-looking name
   * (`db_password=...`), so that it can be redacted from logs and error texts.
   */
  onSecret?: (value: string) => void;
}

/**
 * Parses `variableList` into lower-cased name → value (upstream §8.4), last duplicate winning. Three
 * forms: the legacy `k1,\x01k2\x01=\x01v1,\x01v2`, the JSON `[{"key":..,"value":..}]`, and the plain
 * `name=tom, Age=10` of the old API guide (comma separated, values may be quoted).
 * Throws InputError for a malformed list (upstream's texts, without the list: they name the character
 * position, the element and the key, never a value), SecretError for a value that does not decrypt.
 */
export function parseVariableList(text: string, options: VariableListOptions): Map<string, string> {
  const pairs = text.includes(KEY_VALUE)
    ? legacyPairs(text, options)
    : /^\s*[[{]/.test(text)
      ? jsonPairs(text, options)
      : plainPairs(text).map(([key, value]) => [key, rawValue(key, value, options)] as const);
  const variables = new Map<string, string>();
  for (const [key, value] of pairs) {
    const name = stripPrefix(key, options.prefixes).toLowerCase();
    if (name !== '') variables.set(name, value);
  }
  return variables;
}

function stripPrefix(key: string, prefixes: readonly Prefix[]): string {
  const prefix = prefixes.find((p) => p.text !== '' && key.startsWith(p.text));
  return prefix ? key.slice(prefix.text.length) : key;
}

/** A value as given, or decrypted when it is `<{cipher_a}hex>&\x01<guid>` (upstream getRawKeyValue). */
function rawValue(key: string, value: string, options: VariableListOptions): string {
  const parts = value.split(ENCRYPTED);
  if (parts.length === 1) {
    if (isSecretKey(key)) options.onSecret?.(value);
    return value;
  }
  if (parts.length === 2 && parts[0] === '') return '';
  // upstream quotes the value here: it is (or holds) the secret, so only the key is named
  if (parts.length !== 2 || parts[1] === '') {
    throw new InputError(
      `GetRawKeyValue key=${key} format error,encrypt value should contain guid message (<ciphertext>&\\x01<guid>; ${parts.length - 1} separators found)`,
    );
  }
  let plain: string;
  try {
    plain = decodeCipherA(parts[1]!, options.seed, parts[0]!);
  } catch (error) {
    throw new SecretError(`Decode key=${key} password fail,${(error as Error).message} `);
  }
  options.onSecret?.(plain);
  return plain;
}

function legacyPairs(text: string, options: VariableListOptions): Array<readonly [string, string]> {
  const halves = text.split(KEY_VALUE);
  if (halves.length !== 2) {
    const second = text.indexOf(KEY_VALUE, text.indexOf(KEY_VALUE) + KEY_VALUE.length);
    throw new InputError(
      `VarialbeList format error at character ${second + 1}: can not find '=' (the \\x01=\\x01 separator appears ${halves.length - 1} times, once expected)`,
    );
  }
  const keys = halves[0]!.split(ITEM);
  const values = halves[1]!.split(ITEM);
  if (keys.length !== values.length) {
    throw new InputError(`VarialbeList format error: keys num != value num (${keys.length} keys, ${values.length} values)`);
  }
  return keys.map((key, i) => {
    const value = values[i]!;
    if (value === NULL_VALUE) {
      if (options.nullCheck) throw new InputError(`Variable ${key} value is NULL `);
      return [key, ''] as const;
    }
    return [key, rawValue(key, value, options)] as const;
  });
}

function jsonPairs(text: string, options: VariableListOptions): Array<readonly [string, string]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, secrets included
    const problem = locateJsonProblem(text);
    const element = typeof problem?.path[0] === 'number' ? `element ${problem.path[0] + 1}` : '';
    const key = problem?.keyMember !== undefined ? `key ${shownName(problem.keyMember)}` : '';
    const where = problem
      ? `at character ${problem.character}${element || key ? ` (${[element, key].filter(Boolean).join(', ')})` : ''}: ${problem.reason}`
      : 'not valid JSON';
    throw new InputError(`variableList json unmarshal fail,${where} `);
  }
  if (!Array.isArray(parsed)) throw new InputError('variableList json unmarshal fail,expected an array of {"key":...,"value":...} ');
  return parsed.map((element: unknown, i) => {
    const { key, value } = (element ?? {}) as { key?: unknown; value?: unknown };
    const scalar = (v: unknown) => v === undefined || v === null || ['string', 'number', 'boolean'].includes(typeof v);
    if (typeof element !== 'object' || Array.isArray(element) || !scalar(key) || !scalar(value)) {
      throw new InputError(`variableList json unmarshal fail,element ${i + 1} is not {"key":string,"value":string} `);
    }
    const k = key === undefined || key === null ? '' : String(key);
    const v = value === undefined || value === null ? '' : String(value);
    try {
      return [k, rawValue(k, v, options)] as const;
    } catch (error) {
      const wrapped = `Try to get decode value fail,${(error as Error).message} `;
      throw error instanceof SecretError ? new SecretError(wrapped) : new InputError(wrapped);
    }
  });
}

/**
 * `name=tom, Age=10, msg="a, b"`: pairs split on commas outside quotes; names and unquoted values
 * trimmed; a value in double quotes may escape `\"` and `\\`, one in single quotes is taken literally.
 */
export function plainPairs(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  // The text is never quoted: a piece that is "not name=value" is often the rest of a value with a comma.
  const fail = (at: number, why: string): never => {
    const last = pairs[pairs.length - 1]?.[0];
    const after = last !== undefined ? ` (after key ${shownName(last)})` : '';
    throw new InputError(`variableList format error at character ${at + 1}${after}: ${why}`);
  };
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    const comma = text.indexOf(',', i);
    if (eq === -1 || (comma !== -1 && comma < eq)) {
      const piece = text.slice(i, comma === -1 ? undefined : comma);
      if (piece.trim() !== '') fail(i + piece.search(/\S/), 'a piece without "=" is not name=value (quote a value that holds a comma)');
      i = comma === -1 ? text.length : comma + 1;
      continue;
    }
    const name = text.slice(i, eq).trim();
    if (name === '') fail(eq, 'a value has no name');
    let j = eq + 1;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
    let value = '';
    const quote = text[j];
    if (quote === '"' || quote === "'") {
      const opened = j;
      j++;
      let closed = false;
      while (j < text.length) {
        const c = text[j]!;
        if (c === quote) {
          closed = true;
          j++;
          break;
        }
        if (quote === '"' && c === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) {
          value += text[j + 1];
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
      if (!closed) fail(opened, `the value of ${shownName(name)} has no closing ${quote}`);
      const rest = text.indexOf(',', j);
      const trailing = text.slice(j, rest === -1 ? undefined : rest);
      if (trailing.trim() !== '') fail(j + trailing.search(/\S/), `unexpected text after the quoted value of ${shownName(name)}`);
      i = rest === -1 ? text.length : rest + 1;
    } else {
      const end = text.indexOf(',', j);
      value = text.slice(j, end === -1 ? undefined : end).trim();
      i = end === -1 ? text.length : end + 1;
    }
    pairs.push([name, value]);
  }
  return pairs;
}
