import { EventPublishError } from '../errors.js';
import { EVENT_SOURCE, RELEASE_EVENT_TYPES, type ReleaseEvent, type ReleaseEvents } from './release-events.js';

type EventBridgeModule = typeof import('@aws-sdk/client-eventbridge');

/** Error names of PutEvents (whole call or one entry) worth another attempt. */
const TRANSIENT = /Throttl|InternalException|InternalFailure|ServiceUnavailable|TimeoutError|RequestTimeout|NetworkingError|ECONNRESET|ECONNREFUSED/;

/**
 * Release events on an EventBridge bus: source `saltstack-plugin`, detail-type per event type, the whole
 * event as `detail`. The SDK is loaded on first use (the Lambda runtime ships it) and retries throttles
 * itself (3 attempts); its errors are translated here to their name and status (its message may quote the
 * request). `endpoint`: a stand-in for AWS (tests); region and credentials come from the SDK's chain.
 */
export class EventBridgeReleaseEvents implements ReleaseEvents {
  readonly target: string;
  private client: Promise<{ sdk: EventBridgeModule; client: InstanceType<EventBridgeModule['EventBridgeClient']> }> | undefined;

  /** `region`/`credentials`: given only by tests; unset, the SDK's own chain (the Lambda's region and role). */
  constructor(
    private readonly settings: {
      bus: string;
      endpoint?: string | undefined;
      region?: string | undefined;
      credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
    },
  ) {
    this.target = `eventbridge:${settings.bus}`;
  }

  private sdk() {
    return (this.client ??= import('@aws-sdk/client-eventbridge').then((sdk) => ({
      sdk,
      client: new sdk.EventBridgeClient({
        ...(this.settings.endpoint && { endpoint: this.settings.endpoint }),
        ...(this.settings.region && { region: this.settings.region }),
        ...(this.settings.credentials && { credentials: this.settings.credentials }),
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
      }),
    })));
  }

  async publish(event: ReleaseEvent, signal?: AbortSignal): Promise<void> {
    const { sdk, client } = await this.sdk();
    let out;
    try {
      out = await client.send(
        new sdk.PutEventsCommand({
          Entries: [
            {
              EventBusName: this.settings.bus,
              Source: EVENT_SOURCE,
              DetailType: RELEASE_EVENT_TYPES[event.type],
              Detail: JSON.stringify(event),
              Time: new Date(event.time),
            },
          ],
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      const e = (error ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      const name = e.name ?? 'unknown error';
      throw new EventPublishError(
        `EventBridge refused the event for bus ${this.settings.bus}: ${name}${status ? ` (HTTP ${status})` : ''}`,
        TRANSIENT.test(name),
      );
    }
    const entry = out.Entries?.[0];
    if (out.FailedEntryCount || entry?.ErrorCode) {
      const code = entry?.ErrorCode ?? 'unknown';
      throw new EventPublishError(
        `EventBridge did not take the event for bus ${this.settings.bus}: ${code} ${entry?.ErrorMessage ?? ''}`.trim(),
        TRANSIENT.test(code),
      );
    }
  }
}
