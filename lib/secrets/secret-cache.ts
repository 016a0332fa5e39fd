import type { SecretSource } from './secret-source.js';

/**
 * One secret held for `ttlS` seconds after it was fetched (0: for the life of the process), then fetched
 * again on the next read, so that a rotated value is seen without a cold start. Concurrent reads share
 * one fetch; a failed fetch keeps nothing, and the next read tries again.
 */
export class SecretCache {
  private held: { text: string; at: number } | undefined;
  private fetching: Promise<string> | undefined;

  constructor(
    private readonly options: {
      source: SecretSource;
      id: string;
      ttlS: number;
      /** Milliseconds since the epoch (injected by tests). */
      now?: () => number;
    },
  ) {}

  /** The secret's text, fetched when none is held or the held one is older than the TTL. Throws SecretsError. */
  async get(signal?: AbortSignal): Promise<string> {
    const { held } = this;
    if (held && (this.options.ttlS === 0 || this.now() - held.at < this.options.ttlS * 1000)) return held.text;
    this.fetching ??= this.fetch(signal).finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  /** Forgets the held value: the next read fetches (its content was refused; the fix may be there already). */
  invalidate(): void {
    this.held = undefined;
  }

  private async fetch(signal: AbortSignal | undefined): Promise<string> {
    const at = this.now();
    const { text } = await this.options.source.getSecret(this.options.id, signal);
    this.held = { text, at };
    return text;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
