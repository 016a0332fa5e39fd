/**
 * A file-name glob as a Python regular expression for salt's `file.find regex=`. Salt's own `name=` option
 * only rewrites `.`, `?` and `*` and hands every other character to `re` as it is: `(` breaks the search,
 * `+`, `$` or `|` change its meaning. Here `*`, `?`, `[a-z]` / `[!a-z]` and `{a,b}` are glob syntax and
 * everything else is literal.
 */
const escapeChar = (c: string) => (/[\x00-\x7f]/.test(c) && !/[A-Za-z0-9]/.test(c) ? `\\${c}` : c);
const escapeText = (s: string) => [...s].map(escapeChar).join('');
/** Inside a class, `-` keeps its range meaning; the rest is literal. */
const escapeClass = (s: string) => [...s].map((c) => (c === '-' ? c : escapeChar(c))).join('');

/** The regex (anchored at the end with `\Z`; salt anchors the start) matching the names the glob matches. */
export function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      let body = end === -1 ? '' : glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      if (!body) {
        out += escapeChar(c);
        continue;
      }
      out += `[${negate ? '^' : ''}${escapeClass(body)}]`;
      i = end;
    } else if (c === '{') {
      const end = glob.indexOf('}', i + 1);
      if (end === -1) {
        out += escapeChar(c);
        continue;
      }
      out += `(?:${glob.slice(i + 1, end).split(',').map(escapeText).join('|')})`;
      i = end;
    } else out += escapeChar(c);
  }
  return `${out}\\Z`;
}
