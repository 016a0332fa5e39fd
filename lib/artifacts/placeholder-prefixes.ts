/** What a placeholder's prefix asks for (upstream §8.3 lists, in their order). */
export type PrefixKind = 'plain' | 'double-rsa' | 'single-rsa' | 'file';

export interface Prefix {
  text: string;
  kind: PrefixKind;
}

/** The four prefix lists, from SALTSTACK_DEFAULT_SPECIAL_REPLACE, _ENCRYPT_, _SINGLE_ENCRYPT_ and _FILE_VARIBLE_PREFIX. */
export interface PlaceholderPrefixes {
  plain: string[];
  doubleRsa: string[];
  singleRsa: string[];
  file: string[];
}

export const DEFAULT_PREFIXES: PlaceholderPrefixes = {
  plain: ['@', '#'],
  doubleRsa: ['!', '%'],
  singleRsa: ['+'],
  file: ['^'],
};

/**
 * One prefix list from its env value: split on `,`, trimmed, empty entries dropped. Upstream kept `""`
 * entries, which matched every key and silently disabled single-RSA encryption (§8.3); we do not.
 */
export function parsePrefixList(text: string | undefined, fallback: string[]): string[] {
  if (text === undefined || text.trim() === '') return [...fallback];
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** The combined list in upstream's order: plain, double-RSA, single-RSA, file. */
export function combinedPrefixes(p: PlaceholderPrefixes): Prefix[] {
  return [
    ...p.plain.map((text) => ({ text, kind: 'plain' as const })),
    ...p.doubleRsa.map((text) => ({ text, kind: 'double-rsa' as const })),
    ...p.singleRsa.map((text) => ({ text, kind: 'single-rsa' as const })),
    ...p.file.map((text) => ({ text, kind: 'file' as const })),
  ];
}

/** Why the prefix lists cannot work (a duplicate, a bracket or a space in a prefix), or undefined when they can. */
export function prefixProblem(p: PlaceholderPrefixes): string | undefined {
  const seen = new Set<string>();
  for (const { text } of combinedPrefixes(p)) {
    if (/[[\]\s]/.test(text)) return `placeholder prefix "${text}" contains a bracket or a space`;
    if (seen.has(text)) return `placeholder prefix "${text}" appears more than once`;
    seen.add(text);
  }
  if (seen.size === 0) return 'no placeholder prefix is configured';
  return undefined;
}

/**
 * SALTSTACK_ENCRYPT_ESCAPE_PREFIX as upstream reads it: split on `,`, untrimmed, and unset or empty is `[""]`
 * (register.xml's default), whose empty entry matches every key: single-RSA (`+`) placeholders then get
 * the plain value, as WeCube callers of the Go plugin have always received.
 */
export function parseEscapeList(text: string | undefined): string[] {
  return text === undefined || text.trim() === '' ? [''] : text.split(',');
}

/**
 * Whether a single-RSA placeholder's key (prefix and name, `+db_pw`) is escaped (left plain): upstream's
 * regex `^(<e1>|<e2>|...)\w*`. An escape list that is not a valid regex (an entry starting with `+`)
 * escapes nothing, as upstream logs the error and encrypts; `problem` says why.
 */
export function escapeMatcher(list: readonly string[]): { escapes: (key: string) => boolean; problem?: string } {
  if (!list.length) return { escapes: () => false };
  try {
    const re = new RegExp(`^(${list.join('|')})\\w*`, 'u');
    return { escapes: (key) => re.test(key) };
  } catch (error) {
    return {
      escapes: () => false,
      problem: `SALTSTACK_ENCRYPT_ESCAPE_PREFIX is not a valid regex (${(error as Error).message}): + placeholders are encrypted`,
    };
  }
}
