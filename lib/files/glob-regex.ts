import { InputError } from '../errors.js';

/**
 * A file-name glob as a Python regular expression for salt's `file.find regex=` (salt runs `re.match` on
 * each base name, on the minion). Salt's own `name=` option only rewrites `.`, `?` and `*` and hands every
 * other character to `re` as it is: `(` breaks the search, `+`, `$` or `|` change its meaning. Here `*`,
 * `?`, `[a-z]` / `[!a-z]` and `{a,b}` are glob syntax and everything else is literal.
 *
 * `*` is not written `.*` between literal parts: `.*a.*a.*a.*b` against a long name of `a`s backtracks
 * polynomially in Python's `re`. As CPython's fnmatch.translate (3.9+) does, each interior `*` followed
 * by a fixed part becomes `(?=(?P<gN>.*?FIXED))(?P=gN)`: the shortest match of the part, which `re` cannot
 * take back once the lookahead succeeded, so each part is searched once. That is exact because the part
 * has a fixed length (characters, `?`, classes) and a `*` follows it. Braces, whose alternatives may differ
 * in length, are expanded into whole patterns instead.
 */

/** Brace alternatives expand multiplicatively: past this many patterns the glob is refused. */
export const MAX_GLOB_ALTERNATIVES = 64;

const escapeChar = (c: string) => (/[\x00-\x7f]/.test(c) && !/[A-Za-z0-9]/.test(c) ? `\\${c}` : c);
/** Inside a class, `-` keeps its range meaning; the rest is literal. */
const escapeClass = (s: string) => [...s].map((c) => (c === '-' ? c : escapeChar(c))).join('');

const STAR = Symbol('star');
type Piece = string | typeof STAR;

/**
 * `{a,b}x{c,d}` as `axc`, `axd`, `bxc`, `bxd`, scanning left to right as the translation always did: a
 * `[...]` class is kept whole (a brace inside it is a character of the class), a `{` without a `}` is
 * literal, and the text of an alternative is literal (a backslash marks a literal character for `pieces`).
 */
function expandBraces(glob: string, field: string): string[] {
  let out = [''];
  const add = (text: string) => (out = out.map((p) => p + text));
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      const body = end === -1 ? '' : glob.slice(i + 1, end).replace(/^[!^]/, '');
      if (!body) {
        add('\\[');
        continue;
      }
      add(glob.slice(i, end + 1));
      i = end;
    } else if (c === '{' && glob.indexOf('}', i + 1) !== -1) {
      const end = glob.indexOf('}', i + 1);
      const alternatives = glob
        .slice(i + 1, end)
        .split(',')
        .map((a) => a.replace(/[\\*?[{]/g, (x) => `\\${x}`));
      out = out.flatMap((p) => alternatives.map((a) => p + a));
      if (out.length > MAX_GLOB_ALTERNATIVES) {
        throw new InputError(`Parameter ${field} validation failed: its {a,b} alternatives make more than ${MAX_GLOB_ALTERNATIVES} patterns`);
      }
      i = end;
    } else {
      add(c === '\\' || c === '{' ? `\\${c}` : c);
    }
  }
  return out;
}

/** One brace-free glob (a backslash: the next character is literal) as regex pieces: literals, classes, collapsed stars. */
function pieces(glob: string): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      out.push(escapeChar(glob[++i]!));
    } else if (c === '*') {
      if (out.at(-1) !== STAR) out.push(STAR);
    } else if (c === '?') {
      out.push('.');
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      let body = end === -1 ? '' : glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      if (!body) {
        out.push(escapeChar(c));
        continue;
      }
      out.push(`[${negate ? '^' : ''}${escapeClass(body)}]`);
      i = end;
    } else {
      out.push(escapeChar(c));
    }
  }
  return out;
}

/** fnmatch.translate's layout of the pieces; `group` numbers the lookahead groups across alternatives. */
function layout(parts: Piece[], group: { next: number }): string {
  let out = '';
  let i = 0;
  while (i < parts.length && parts[i] !== STAR) out += parts[i++] as string;
  while (i < parts.length) {
    i += 1; // the STAR
    let fixed = '';
    while (i < parts.length && parts[i] !== STAR) fixed += parts[i++] as string;
    if (i === parts.length) {
      out += `.*${fixed}`; // the last part is anchored at the end: `.*` backtracks at most once over the name
    } else {
      const name = `g${group.next++}`;
      out += `(?=(?P<${name}>.*?${fixed}))(?P=${name})`;
    }
  }
  return out;
}

/**
 * The regex (anchored at the end with `\Z`; salt anchors the start) matching the names the glob matches,
 * in time linear in the name for each part of the glob. Throws InputError (naming `field`) for a glob
 * whose braces expand to more than MAX_GLOB_ALTERNATIVES patterns.
 */
export function globToRegex(glob: string, field = 'filePattern'): string {
  const group = { next: 0 };
  const alternatives = expandBraces(glob, field).map((g) => layout(pieces(g), group));
  // DOTALL so that `*` and `?` match a newline in a name too, as fnmatch does (a leading `(?s)`: any Python 3).
  const body = alternatives.length === 1 ? alternatives[0]! : `(?:${alternatives.join('|')})`;
  return `(?s)${body}\\Z`;
}
