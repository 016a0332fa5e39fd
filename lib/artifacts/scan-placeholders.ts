import type { Prefix } from './placeholder-prefixes.js';
import { LineSplitter } from './split-lines.js';

/** One way to read a placeholder: the prefix its text starts with and the variable name that gives. */
export interface Candidate {
  prefix: Prefix;
  name: string;
}

/** A `[<prefix><name>]` found in a line. */
export interface Placeholder {
  /** Offset of the `[`. */
  start: number;
  /** Offset just past the first `]` after it. */
  end: number;
  /** Readings in prefix-list order (several only when prefixes overlap, e.g. `@` and `@@`). */
  candidates: Candidate[];
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]

/**
 * Upstream's scan (§8.5): every match of `[^\[]*]` in the line, cut at its first `]`, that starts with a
 * prefix; the name is the text between that prefix and its next occurrence, and must be non-empty and
 * space-free. A regex match is the whole `[`-free run up to its last `]`, so there is exactly one per run
 * that holds a `]`; and it only counts when a `[` precedes it. That is what this loop walks, in linear
 * time (the regex itself goes quadratic on a long run without `]`).
 *
 * The line may be any string encoding as long as prefixes use the same one (the streaming engine passes
 * latin1 views of UTF-8 bytes, so that bytes outside placeholders are never re-encoded).
 */
export function scanLine(line: string, prefixes: readonly Prefix[]): Placeholder[] {
  const found: Placeholder[] = [];
  let open = line.indexOf('[');
  while (open !== -1) {
    const next = line.indexOf('[', open + 1);
    const runEnd = next === -1 ? line.length : next;
    const close = line.indexOf(']', open + 1);
    if (close !== -1 && close < runEnd) {
      const cut = line.slice(open + 1, close);
      const candidates: Candidate[] = [];
      for (const prefix of prefixes) {
        if (prefix.text === '' || !cut.startsWith(prefix.text)) continue;
        const second = cut.indexOf(prefix.text, prefix.text.length);
        const name = cut.slice(prefix.text.length, second === -1 ? undefined : second);
        if (name === '' || name.includes(' ')) continue;
        candidates.push({ prefix, name });
      }
      if (candidates.length) found.push({ start: open, end: close + 1, candidates });
    }
    open = next;
  }
  return found;
}

/** Cheap pre-check on raw bytes: a line without both `[` and `]` cannot hold a placeholder. */
export function mayHoldPlaceholder(line: Uint8Array): boolean {
  const open = line.indexOf(OPEN);
  return open !== -1 && line.indexOf(CLOSE, open + 1) !== -1;
}

const latin1Views = new WeakMap<readonly Prefix[], Array<Prefix & { original: Prefix }>>();

/**
 * `scanLine` over raw bytes: scans a latin1 view (one char per byte, so offsets are byte offsets and bytes
 * are never re-encoded) and returns names decoded as UTF-8 with the caller's own prefix objects.
 */
export function scanBytes(segment: Buffer, prefixes: readonly Prefix[]): Placeholder[] {
  if (!mayHoldPlaceholder(segment)) return [];
  let view = latin1Views.get(prefixes);
  if (!view) {
    view = prefixes.map((p) => ({ ...p, text: Buffer.from(p.text, 'utf8').toString('latin1'), original: p }));
    latin1Views.set(prefixes, view);
  }
  return scanLine(segment.toString('latin1'), view).map((ph) => ({
    ...ph,
    candidates: ph.candidates.map((c) => ({
      prefix: (c.prefix as Prefix & { original: Prefix }).original,
      name: Buffer.from(c.name, 'latin1').toString('utf8'),
    })),
  }));
}

/** A placeholder occurrence as released-package/getConfigFileKey reports it (upstream §16.7). */
export interface ConfigKeyInfo {
  line: string;
  key: string;
  type: string;
}

/** Every reading of every placeholder in a byte stream, in order, with 1-based line numbers. */
export async function collectPlaceholders(source: AsyncIterable<Buffer>, prefixes: readonly Prefix[]): Promise<ConfigKeyInfo[]> {
  const infos: ConfigKeyInfo[] = [];
  const splitter = new LineSplitter((segment, line) => {
    for (const ph of scanBytes(segment, prefixes)) {
      for (const c of ph.candidates) infos.push({ line: String(line), key: c.name, type: c.prefix.text });
    }
  });
  for await (const chunk of source) splitter.push(chunk);
  splitter.end();
  return infos;
}
