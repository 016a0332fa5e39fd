/**
 * Upstream's list fields (`splitWithCustomFlag`, §4.1): `,` and `|` both separate, empty pieces are dropped.
 * Unlike upstream, pieces are trimmed: `"a, b"` is two names, not `"a"` and `" b"`.
 */
export function splitList(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/[,|]/)
    .map((piece) => piece.trim())
    .filter((piece) => piece !== '');
}
