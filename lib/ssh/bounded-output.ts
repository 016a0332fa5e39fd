/**
 * Collects a stream's text keeping at most `max` characters: the first half and the latest half, with
 * the count of what was dropped in between. Memory stays bounded whatever a remote command prints.
 */
export class BoundedOutput {
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(text: string): void {
    const half = Math.floor(this.max / 2);
    if (this.head.length < half) {
      const room = half - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    this.tail += text;
    if (this.tail.length > this.max - half) {
      const cut = this.tail.length - (this.max - half);
      this.dropped += cut;
      this.tail = this.tail.slice(cut);
    }
  }

  toString(): string {
    return this.dropped ? `${this.head}\n[... ${this.dropped} characters trimmed ...]\n${this.tail}` : this.head + this.tail;
  }
}
