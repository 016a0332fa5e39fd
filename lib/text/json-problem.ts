/** Where a text stops being JSON, told without quoting it. */
export interface JsonProblem {
  /** 1-based character position of the first character that is not valid there (length + 1: the text ended). */
  character: number;
  /** What was wrong, in words that never contain the text. */
  reason: string;
  /** The object keys and array indexes (0-based) leading to the position, outermost first. */
  path: Array<string | number>;
  /** Between two members of the innermost object: the key of the member before the position. */
  afterKey?: string | undefined;
  /** The innermost object's `"key"` member, when it had a string value before the position (variableList elements). */
  keyMember?: string | undefined;
}

type Frame = { kind: 'object'; key?: string | undefined; lastKey?: string | undefined; keyMember?: string | undefined } | { kind: 'array'; index: number };

const MAX_NAME = 64;
const MAX_DEPTH = 512;

/**
 * Locates the first JSON syntax error of `text` (run after JSON.parse refused it). JSON.parse's own
 * messages quote the input (`Unexpected token 'S', "{"pw": S3cret}" is not valid JSON`), and a request
 * body or a variableList carries passwords: this says where and what, never the text. Undefined when
 * the text is valid JSON after all.
 */
export function locateJsonProblem(text: string): JsonProblem | undefined {
  let i = 0;
  const stack: Frame[] = [];
  const path = () => stack.flatMap((f): Array<string | number> => (f.kind === 'array' ? [f.index] : f.key !== undefined ? [f.key] : []));
  const problem = (reason: string): JsonProblem => {
    const inner = [...stack].reverse().find((f) => f.kind === 'object') as { key?: string; lastKey?: string; keyMember?: string } | undefined;
    return { character: i + 1, reason, path: path(), afterKey: inner?.key === undefined ? inner?.lastKey : undefined, keyMember: inner?.keyMember };
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  /** Reads a string at i (which is '"'); returns its value, or a problem. */
  const string = (): string | JsonProblem => {
    let value = '';
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return value;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return problem('bad \\u escape in a string');
          value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return problem('bad escape in a string');
        value += e;
        i += 2;
        continue;
      }
      if (c < ' ') return problem('control character in a string (escape it)');
      value += c;
      i++;
    }
    return problem('unterminated string');
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  /** Reads one value at i; a problem, or undefined when it was fine (its string value, for strings). */
  const value = (): JsonProblem | { string?: string } => {
    ws();
    if (i >= text.length) return problem('the text ended where a value was expected');
    const c = text[i]!;
    if (c === '"') {
      const s = string();
      return typeof s === 'string' ? { string: s } : s;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return {};
      }
    }
    NUMBER.lastIndex = i;
    if ((c === '-' || (c >= '0' && c <= '9')) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return {};
    }
    if (c === '{') return container('object');
    if (c === '[') return container('array');
    return problem('a value was expected (a string must be in double quotes)');
  };
  const isProblem = (v: unknown): v is JsonProblem => typeof v === 'object' && v !== null && 'reason' in v;
  const container = (kind: 'object' | 'array'): JsonProblem | object => {
    if (stack.length >= MAX_DEPTH) return problem(`nested deeper than ${MAX_DEPTH} levels`);
    const frame: Frame = kind === 'object' ? { kind } : { kind, index: 0 };
    stack.push(frame);
    i++;
    ws();
    const close = kind === 'object' ? '}' : ']';
    if (text[i] === close) {
      i++;
      stack.pop();
      return {};
    }
    for (;;) {
      if (frame.kind === 'object') {
        ws();
        if (text[i] !== '"') return problem(i >= text.length ? 'the text ended where a key was expected' : 'a key in double quotes was expected');
        const key = string();
        if (isProblem(key)) return key;
        frame.key = key.slice(0, MAX_NAME);
        ws();
        if (text[i] !== ':') return problem(`":" was expected after the key`);
        i++;
      }
      const v = value();
      if (isProblem(v)) return v;
      if (frame.kind === 'object' && frame.key === 'key' && 'string' in v && v.string !== undefined) frame.keyMember = v.string.slice(0, MAX_NAME);
      ws();
      if (text[i] === ',') {
        i++;
        if (frame.kind === 'array') frame.index++;
        else [frame.lastKey, frame.key] = [frame.key, undefined];
        ws();
        if (text[i] === close) return problem(`a trailing comma before "${close}"`);
        continue;
      }
      if (text[i] === close) {
        i++;
        stack.pop();
        return {};
      }
      return problem(i >= text.length ? `the text ended where "," or "${close}" was expected` : `"," or "${close}" was expected`);
    }
  };
  const top = value();
  if (isProblem(top)) return top;
  ws();
  if (i < text.length) return problem('unexpected text after the JSON value');
  return undefined;
}

/**
 * A key as error texts may show it: names only. A key that is not name-like may be a piece of a value
 * whose quotes were broken (`{"pw":"ab", "cd"}` reads `cd` as a key), so it is not shown.
 */
export const shownName = (key: string): string => (NAME_LIKE.test(key) ? `"${key}"` : 'a key');
const NAME_LIKE = /^[\w.@#!%^+$:/-]{1,64}$/;

/** `at character 28 (in inputs[0].password)`: a JsonProblem's place, for error texts. */
export function jsonProblemPlace(p: JsonProblem): string {
  const where = p.path.map((s, n) => (typeof s === 'number' ? `[${s}]` : `${n === 0 ? '' : '.'}${NAME_LIKE.test(s) ? s : '<key>'}`)).join('');
  const after = p.afterKey !== undefined ? `after key ${shownName(p.afterKey)}` : '';
  const detail = [where && `in ${where}`, after].filter(Boolean).join(', ');
  return `at character ${p.character}${detail ? ` (${detail})` : ''}`;
}

/** The sanitised description of why `text` is not JSON: `at character 28 (in a.b): unterminated string`. */
export function describeJsonProblem(text: string): string {
  const p = locateJsonProblem(text);
  return p ? `${jsonProblemPlace(p)}: ${p.reason}` : 'refused by the JSON parser';
}
