import { InputError } from '../errors.js';
import type { SqlStatement } from './split-sql.js';

/**
 * The statement guard of run-custom-sql. The READ ONLY transaction stops writes to tables, not what acts
 * outside them (INTO OUTFILE, SET GLOBAL, KILL, locks, LOAD_FILE, sequences...), so each statement is
 * tokenised the way the MySQL/MariaDB lexer reads it and judged on its code tokens; what cannot be
 * judged without knowing the server's version or settings is refused.
 */

/** First keywords of the statements that only read. EXPLAIN/DESCRIBE are judged on what follows, like the rest. */
const FIRST = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'TABLE', 'VALUES']);
/** What may follow the `(` of a parenthesised query. */
const PARENTHESISED = new Set(['SELECT', 'WITH', 'TABLE', 'VALUES']);

/**
 * Words refused anywhere in the code (case-insensitive; a backticked identifier is never a word):
 * writes to files or variables (INTO), server files (LOAD_FILE), row and named locks, CPU burners,
 * non-transactional sequence moves, and the well-known loadable functions that run commands or touch
 * keyrings and audit logs (loadable functions need no privilege to call).
 */
const REFUSED = new Set([
  'INTO',
  'OUTFILE',
  'DUMPFILE',
  'LOAD_FILE',
  'UPDATE',
  'DELETE',
  'LOCK',
  'GET_LOCK',
  'RELEASE_LOCK',
  'RELEASE_ALL_LOCKS',
  'BENCHMARK',
  'NEXTVAL',
  'SETVAL',
  'SYS_EXEC',
  'SYS_EVAL',
  'SYS_GET',
  'SYS_SET',
  'SYS_BINEVAL',
]);
const REFUSED_PREFIXES = ['KEYRING_', 'AUDIT_LOG_', 'VERSION_TOKENS_', 'SERVICE_GET_', 'SERVICE_RELEASE_', 'MYSQL_FIREWALL_', 'LIB_MYSQLUDF_'];

type Token = { kind: 'word'; upper: string } | { kind: 'punct'; text: string } | { kind: 'literal' };

interface Lexed {
  tokens: Token[];
  /** False when a quote or comment is left open: the server refuses the text with a syntax error. */
  complete: boolean;
  /** Something the guard refuses to judge (what to name in the message). */
  problem?: string;
}

/** How backslashes read inside '...' and "..." (sql_mode NO_BACKSLASH_ESCAPES, ANSI_QUOTES change them). */
interface Mode {
  singleEscapes: boolean;
  doubleEscapes: boolean;
}
const MODES: Mode[] = [
  { singleEscapes: true, doubleEscapes: true },
  { singleEscapes: false, doubleEscapes: false },
  { singleEscapes: true, doubleEscapes: false },
  { singleEscapes: false, doubleEscapes: true },
];

// The server's my_isspace / my_iscntrl on ASCII: a `--` followed by one of these starts a comment.
const isSpace = (code: number) => code === 32 || (code >= 9 && code <= 13);
const isWordChar = (c: string) => /[A-Za-z0-9_$]/.test(c);

/** Tokenises like the server's lexer (sql_lex.cc), dropping comments, literals kept as opaque tokens. */
function lex(sql: string, mode: Mode): Lexed {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const incomplete = (): Lexed => ({ tokens, complete: false });
  while (i < n) {
    const c = sql[i]!;
    const code = c.charCodeAt(0);
    if (isSpace(code)) {
      i += 1;
    } else if (c === "'" || c === '"' || c === '`') {
      const escapes = c === "'" ? mode.singleEscapes : c === '"' ? mode.doubleEscapes : false;
      let j = i + 1;
      for (;;) {
        if (j >= n) return incomplete();
        const d = sql[j]!;
        if (escapes && d === '\\') {
          j += 2;
        } else if (d === c) {
          if (sql[j + 1] === c)
            j += 2; // doubled quote: still inside
          else break;
        } else {
          j += 1;
        }
      }
      tokens.push({ kind: 'literal' });
      i = j + 1;
    } else if (c === '#') {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else if (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || sql.charCodeAt(i + 2) <= 32 || sql.charCodeAt(i + 2) === 127 || sql.charCodeAt(i + 2) > 127)) {
      // Whether the server's ctype calls a non-ASCII byte a space or control character depends on the charset.
      if (i + 2 < n && sql.charCodeAt(i + 2) > 127) return { tokens, complete: true, problem: '`--` followed by a non-ASCII character' };
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const third = sql[i + 2];
      // Executed by the server, or skipped, depending on its version (`/*!50700`, `/*M!100100`): not judged.
      if (third === '!' || ((third === 'M' || third === 'm') && sql[i + 3] === '!')) {
        return { tokens, complete: true, problem: 'an executable comment (/*! ... */)' };
      }
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return incomplete();
      if (third === '+') {
        // An optimizer hint is read by its own parser: judged only when it holds nothing but words and punctuation.
        const body = sql.slice(i + 3, end);
        if (/[^A-Za-z0-9_$@.,()=+\-\s]/.test(body)) return { tokens, complete: true, problem: 'an optimizer hint with quotes or comments in it' };
        for (const word of body.match(/[A-Za-z0-9_$]+/g) ?? []) tokens.push({ kind: 'word', upper: word.toUpperCase() });
      }
      i = end + 2;
    } else if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql[j]!)) j += 1;
      tokens.push({ kind: 'word', upper: sql.slice(i, j).toUpperCase() });
      i = j;
    } else if (code > 127) {
      // The server reads non-ASCII as part of an identifier; splitting there only makes more words to judge.
      i += 1;
    } else {
      tokens.push({ kind: 'punct', text: c });
      i += 1;
    }
  }
  return { tokens, complete: true };
}

/**
 * The keyword candidates of a word: the word, and its letter runs, since the lexer ends a number before
 * letters (`1e1INTO` is the number 1e1 then INTO; `1.INTO` is 1. then INTO).
 */
const candidates = (upper: string): string[] => [upper, ...(upper.match(/[A-Z_$]+/g) ?? [])];

const refusedWord = (word: string) => REFUSED.has(word) || REFUSED_PREFIXES.some((p) => word.startsWith(p));

/** Names what makes the tokens more than a read, or undefined. */
function judgeTokens(tokens: Token[]): string | undefined {
  const first = tokens[0];
  if (!first) return undefined;
  if (first.kind === 'word') {
    if (!FIRST.has(first.upper)) return /^[A-Z_]{1,32}$/.test(first.upper) ? first.upper : 'a statement that is not a query';
  } else if (first.kind === 'punct' && first.text === '(') {
    const inner = tokens.find((t) => !(t.kind === 'punct' && t.text === '('));
    if (!inner || inner.kind !== 'word' || !PARENTHESISED.has(inner.upper)) return 'a parenthesised statement that is not a query';
  } else {
    return 'a statement that is not a query';
  }
  for (const [index, token] of tokens.entries()) {
    const next = tokens[index + 1];
    if (token.kind === 'punct') {
      if (token.text === ';') return '`;` (a second statement)';
      continue;
    }
    if (token.kind !== 'word') continue;
    const refused = candidates(token.upper).find(refusedWord);
    if (refused) return refused;
    const nextWord = next?.kind === 'word' ? next.upper : undefined;
    if (token.upper === 'FOR' && nextWord === 'SHARE') return 'FOR SHARE';
    if (token.upper === 'NEXT' && nextWord === 'VALUE') return 'NEXT VALUE';
    // INSERT(str, pos, len, new) and REPLACE(str, from, to) are string functions; without `(` they are writes.
    if ((token.upper === 'INSERT' || token.upper === 'REPLACE') && !(next?.kind === 'punct' && next.text === '(')) return token.upper;
  }
  return undefined;
}

/**
 * What makes `sql` (one statement, as sent to the server) more than a read, or undefined when it is one.
 * It is judged under every way the server may read its quotes (backslash escapes on or off in '...' and
 * "..."); a reading in which a quote or comment stays open is one where the server refuses it as a syntax
 * error, so only complete readings count.
 */
export function readOnlyProblem(sql: string): string | undefined {
  // The server's lexer ends a `#` comment (and other scans) at NUL: refused rather than guessed.
  if (sql.includes('\0')) return 'a NUL character';
  for (const mode of MODES) {
    const lexed = lex(sql, mode);
    if (lexed.problem) return lexed.problem;
    if (!lexed.complete) continue;
    const problem = judgeTokens(lexed.tokens);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Throws InputError naming the first statement that is not a read-only query (its number, line and the
 * refused keyword, never its literals).
 */
export function assertReadOnlyStatements(statements: readonly SqlStatement[]): void {
  for (const [index, statement] of statements.entries()) {
    const problem = readOnlyProblem(statement.sql);
    if (problem) {
      throw new InputError(
        `Parameter sql validation failed: statement ${index + 1} (line ${statement.line}): ${problem} is not allowed in run-custom-sql ` +
          '(read-only queries only: SELECT, SHOW, DESCRIBE, EXPLAIN, WITH)',
      );
    }
  }
}
