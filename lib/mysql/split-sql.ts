import { InputError } from '../errors.js';

/** One statement of a script, as the mysql client would send it, with the line it starts on (1-based). */
export interface SqlStatement {
  sql: string;
  line: number;
}

type State = 'code' | "'" | '"' | '`' | 'block' | 'line';

const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
/** The mysql client starts a `--` comment only when a space or control character (or end of input) follows. */
const startsDashComment = (c: string | undefined) => c === undefined || isBlank(c) || c.charCodeAt(0) < 32;

/** Reads a `DELIMITER x` command's argument as the mysql client does: first word, or a quoted string. */
function delimiterArgument(rest: string, line: number): string {
  const text = rest.trim();
  let value: string;
  const quote = text[0];
  if (quote === "'" || quote === '"' || quote === '`') {
    const end = text.indexOf(quote, 1);
    value = end < 0 ? text.slice(1) : text.slice(1, end);
  } else {
    value = text.split(/\s/)[0] ?? '';
  }
  if (!value) throw new InputError(`DELIMITER must be followed by a delimiter character or string (line ${line})`);
  if (value.includes('\\')) throw new InputError(`DELIMITER cannot contain a backslash character (line ${line})`);
  return value;
}

/**
 * Splits a SQL script into statements the way the mysql command-line client does in batch mode:
 * `DELIMITER` lines change the terminator, `--`/`#`/`/* *\/` comments are dropped while `/*! *\/`,
 * `/*M! *\/` executable comments and `/*+ *\/` hints are kept, quotes (`'`, `"`, backticks, with `\` escapes) hide terminators,
 * CRLF is read as LF, and text after the last terminator is a statement of its own.
 * Throws InputError for a DELIMITER line without a usable argument.
 */
export function splitSql(script: string): SqlStatement[] {
  // The mysql client reads line by line and drops a trailing `\r`; so do we, once, for the whole text.
  const text = script.replace(/\r\n/g, '\n').replace(/^\uFEFF/, '');
  const statements: SqlStatement[] = [];
  let delimiter = ';';
  let state: State = 'code';
  let buffer = '';
  let startLine = 0;
  let line = 1;
  let atLineStart = true;

  const flush = () => {
    const sql = buffer.trim();
    if (sql) statements.push({ sql, line: startLine });
    buffer = '';
    startLine = 0;
  };
  const append = (chunk: string) => {
    if (!startLine && chunk.trim()) startLine = line;
    buffer += chunk;
  };

  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    const next = text[i + 1];

    if (state === 'code' && atLineStart) {
      // A client command is only recognised at the start of a line, outside strings and comments.
      const eol = text.indexOf('\n', i);
      const m = /^[ \t]*delimiter[ \t]+(.*)$/i.exec(text.slice(i, eol < 0 ? undefined : eol));
      if (m) {
        flush();
        delimiter = delimiterArgument(m[1]!, line);
        i += m[0].length;
        atLineStart = false;
        continue;
      }
    }
    atLineStart = false;

    switch (state) {
      case 'code':
        if (text.startsWith(delimiter, i)) {
          flush();
          i += delimiter.length;
          continue;
        }
        if (c === "'" || c === '"' || c === '`') {
          state = c;
        } else if (c === '#' || (c === '-' && next === '-' && startsDashComment(text[i + 2]))) {
          state = 'line';
          i += 1;
          continue;
        } else if (c === '/' && next === '*') {
          // `/*!` (MySQL), `/*M!` (MariaDB) run on the server; `/*+` optimizer hints are sent as well.
          const kept = text[i + 2] === '!' || text[i + 2] === '+' || (text[i + 2] === 'M' && text[i + 3] === '!');
          if (!kept) {
            state = 'block';
            append(' ');
            i += 2;
            continue;
          }
        }
        break;
      case "'":
      case '"':
        if (c === '\\' && next !== undefined) {
          append(c + next);
          if (next === '\n') {
            line += 1;
          }
          i += 2;
          continue;
        }
        if (c === state) state = 'code';
        break;
      case '`':
        if (c === '`') state = 'code';
        break;
      case 'block':
        if (c === '*' && next === '/') {
          state = 'code';
          i += 2;
          continue;
        }
        if (c === '\n') {
          line += 1;
          atLineStart = false;
        }
        i += 1;
        continue;
      case 'line':
        if (c === '\n') {
          state = 'code';
          break;
        }
        i += 1;
        continue;
    }

    append(c);
    if (c === '\n') {
      line += 1;
      atLineStart = state === 'code';
    }
    i += 1;
  }
  flush();
  return statements;
}
