/**
 * Caps a detail at `max` characters, keeping its beginning and its end (where errors usually are) and
 * saying in the middle how much was cut.
 */
export function capDetail(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n[... ${text.length - max} of ${text.length} characters trimmed ...]\n`;
  const keep = Math.max(0, max - note.length);
  const head = Math.floor(keep / 2);
  return text.slice(0, head) + note + text.slice(text.length - (keep - head));
}

/**
 * The `detail` of an item: the output of its only script as is, or upstream's `script <i> result: <out>`
 * pieces joined with ` | ` when it ran several; capped at `max` characters.
 */
export function formatDetail(outputs: readonly string[], max: number): string {
  const text = outputs.length === 1 ? outputs[0]! : outputs.map((out, i) => `script ${i + 1} result: ${out}`).join(' | ');
  return capDetail(text, max);
}
