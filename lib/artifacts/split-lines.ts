const NL = 0x0a;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]

/** Longest piece of a line held in memory; longer lines are handed over in pieces (see `LineSplitter`). */
export const MAX_SEGMENT = 1 << 20;

/**
 * Cuts a byte stream into lines (each with its own `\n`, and `\r` if any, so that output can keep them
 * byte for byte) and numbers them from 1. Memory stays bounded: a line longer than `max` is handed over
 * in pieces with the same line number. A piece ends just before an unclosed `[` so that no placeholder is
 * cut in two, unless one placeholder alone is longer than `max` (upstream split such lines at 10 MiB).
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private line = 1;

  constructor(
    private readonly onSegment: (segment: Buffer, line: number) => void,
    private readonly max = MAX_SEGMENT,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(NL); nl !== -1; nl = chunk.indexOf(NL, from)) {
      const piece = chunk.subarray(from, nl + 1);
      if (this.pendingLength) {
        this.pending.push(piece);
        this.onSegment(Buffer.concat(this.pending), this.line);
        this.pending = [];
        this.pendingLength = 0;
      } else {
        this.onSegment(piece, this.line);
      }
      this.line++;
      from = nl + 1;
    }
    if (from < chunk.length) {
      this.pending.push(chunk.subarray(from));
      this.pendingLength += chunk.length - from;
      if (this.pendingLength > this.max) this.flushLong();
    }
  }

  /** Hands over the last line when the input does not end with a newline. */
  end(): void {
    if (this.pendingLength) this.onSegment(Buffer.concat(this.pending), this.line);
    this.pending = [];
    this.pendingLength = 0;
  }

  private flushLong(): void {
    const buf = Buffer.concat(this.pending);
    const open = buf.lastIndexOf(OPEN);
    const keepFrom = open > 0 && buf.indexOf(CLOSE, open) === -1 ? open : buf.length;
    this.onSegment(buf.subarray(0, keepFrom), this.line);
    this.pending = keepFrom < buf.length ? [buf.subarray(keepFrom)] : [];
    this.pendingLength = buf.length - keepFrom;
  }
}
