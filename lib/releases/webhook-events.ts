import { createHmac } from 'node:crypto';
import { EventPublishError } from '../errors.js';
import type { ReleaseEvent, ReleaseEvents } from './release-events.js';

/** The headers a receiver reads: the signature over `<timestamp>.<body>`, the timestamp, the event's type and id. */
export const SIGNATURE_HEADER = 'X-Saltstack-Signature';
export const TIMESTAMP_HEADER = 'X-Saltstack-Timestamp';

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: what X-Saltstack-Signature carries. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookSettings {
  url: string;
  secret: string;
  /** Bound of one attempt (connect + answer). */
  timeoutMs: number;
  /** Attempts in all; only timeouts, network errors, 408, 429 and 5xx are tried again. */
  attempts: number;
  /** Milliseconds before attempt n+1 (default 500 ms, doubling). */
  backoffMs?: (attempt: number) => number;
  /** The HTTP client (global fetch); tests give a real one too, never a fake. */
  fetch?: typeof fetch;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Release events POSTed as JSON to a webhook, signed with its secret. TLS verified (Node's defaults);
 * redirects are not followed (the signature would go elsewhere). Messages name the URL's origin only: its
 * path or query may carry a token.
 */
export class WebhookReleaseEvents implements ReleaseEvents {
  readonly target: string;
  private readonly origin: string;

  constructor(private readonly settings: WebhookSettings) {
    this.origin = new URL(settings.url).origin;
    this.target = `webhook:${this.origin}`;
  }

  async publish(event: ReleaseEvent, signal?: AbortSignal): Promise<void> {
    const body = JSON.stringify(event);
    const backoff = this.settings.backoffMs ?? ((n: number) => 500 * 2 ** (n - 1));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.post(event, body, signal);
      } catch (error) {
        const failure = error instanceof EventPublishError ? error : new EventPublishError(`webhook ${this.origin}: ${String(error)}`, false);
        if (!failure.transient || attempt >= this.settings.attempts || signal?.aborted) {
          throw new EventPublishError(`${failure.message} (attempt ${attempt} of ${this.settings.attempts})`, failure.transient);
        }
        await wait(backoff(attempt));
      }
    }
  }

  private async post(event: ReleaseEvent, body: string, signal: AbortSignal | undefined): Promise<void> {
    // Signed per attempt: a receiver may refuse old timestamps (replays).
    const timestamp = String(Math.floor(Date.now() / 1000));
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    let response: Response;
    try {
      response = await (this.settings.fetch ?? fetch)(this.settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'saltstack-plugin-release-events',
          [SIGNATURE_HEADER]: signWebhook(this.settings.secret, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
          'X-Saltstack-Event': event.type,
          'X-Saltstack-Delivery': event.id,
        },
        body,
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      // fetch's own error (its cause names the socket trouble); never the request, which holds the signature
      const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
      const why = timeout.aborted
        ? `no answer within ${this.settings.timeoutMs} ms`
        : String(cause?.code ?? cause?.message ?? (error as Error)?.name ?? 'network error');
      throw new EventPublishError(`webhook ${this.origin} not reached: ${why}`, !signal?.aborted);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new EventPublishError(`webhook ${this.origin} answered HTTP ${response.status}`, transient);
  }
}
