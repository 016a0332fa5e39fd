import { InputError } from '../errors.js';

const PLAIN_WORD = /^[A-Za-z0-9_/.,:=@%+-]+$/;

/**
 * Quotes one word for a POSIX shell (sh, bash, dash, ksh, zsh): words made only of safe characters are
 * left as they are, anything else goes in single quotes with each `'` written as `'"'"'`. The shell gives
 * back exactly the input, newlines included. Throws InputError for a NUL byte, which no argv can carry.
 */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new InputError('A NUL byte cannot be passed as a command argument');
  if (PLAIN_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** Quotes every word and joins them with spaces: one command line that a POSIX shell splits back into `words`. */
export const shellJoin = (words: readonly string[]): string => words.map(shellQuote).join(' ');

// Characters a shell would act on when unquoted: operators, substitutions, redirections, line breaks.
const UNQUOTED_SPECIAL = new Set([';', '&', '|', '<', '>', '(', ')', '`', '$', '\n', '\r']);
const DESCRIBE: Record<string, string> = { '\n': 'newline', '\r': 'carriage return' };
const describe = (c: string) => DESCRIBE[c] ?? `'${c}'`;

/**
 * Splits a command line into words the way a POSIX shell quotes (single quotes, double quotes, backslash)
 * but WITHOUT any expansion: nothing is ever evaluated. Whatever a shell would have interpreted rather than
 * taken literally (an unquoted `;`, `|`, `&`, `<`, `>`, `(`, `)`, a `$` or backtick outside single quotes,
 * an unquoted line break) is refused with InputError naming `field`, so a word means the same here as in a
 * shell, or the input is rejected. Globs (`*`, `?`) and `~` stay literal.
 */
export function splitShellWords(text: string, field: string): string[] {
  const result = shellWords(text);
  if (typeof result === 'string') throw new InputError(`Parameter ${field} validation failed: ${result}`);
  return result;
}

/** splitShellWords without the throw: the words, or why the text is refused. */
export function shellWords(text: string): string[] | string {
  const fail = (why: string) => why;
  if (text.includes('\0')) return fail('contains a NUL byte');
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) return fail('unterminated single quote');
      word += text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return fail('unterminated double quote');
        const d = text[i]!;
        if (d === '"') break;
        if (d === '$' || d === '`') return fail(`${describe(d)} inside double quotes would be expanded by a shell; use single quotes to pass it literally`);
        if (d === '\\') {
          const n = text[i + 1];
          if (n === undefined) return fail('unterminated double quote');
          // POSIX: inside double quotes a backslash escapes only $ ` " \ and a line break.
          if (n === '$' || n === '`' || n === '"' || n === '\\') word += n;
          else if (n !== '\n') word += '\\' + n;
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      i++;
      continue;
    }
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) return fail('ends with a lone backslash');
      if (n !== '\n') word += n;
      i += 2;
      continue;
    }
    if (UNQUOTED_SPECIAL.has(c)) {
      return fail(`unquoted ${describe(c)} would be interpreted by a shell; quote it to pass it literally`);
    }
    word += c;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}
