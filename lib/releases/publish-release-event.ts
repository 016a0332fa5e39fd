import { publicMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime-types.js';
import type { ReleaseEvent, ReleaseEvents } from './release-events.js';
import type { ReleaseStore } from './release-store.js';

/** What publishing needs: the destinations (none: nothing is published), the records, a logger. */
export interface EventPublishing {
  destinations: readonly ReleaseEvents[];
  records: Pick<ReleaseStore, 'putEventFailure'>;
  logger: Logger;
}

/**
 * Publishes one event to every destination at once. Never throws: a release does not fail because a
 * destination is down. A destination that did not take the event is logged (its target, never a secret)
 * and recorded under the release's `events-failed/` (release/status and the result count them); returns
 * how many destinations failed.
 */
export async function publishReleaseEvent(publishing: EventPublishing, event: ReleaseEvent): Promise<number> {
  const { destinations, records, logger } = publishing;
  const failures = await Promise.all(
    destinations.map(async (destination) => {
      try {
        await destination.publish(event);
        return 0;
      } catch (error) {
        const reason = publicMessage(error);
        logger.warn('release event not published', { release: event.release, type: event.type, sequence: event.sequence, target: destination.target, reason });
        await records
          .putEventFailure(event.release, { sequence: event.sequence, type: event.type, target: destination.target, reason, at: new Date().toISOString() })
          .catch((recordError: unknown) =>
            logger.warn('release event failure not recorded', { release: event.release, sequence: event.sequence, reason: publicMessage(recordError) }),
          );
        return 1;
      }
    }),
  );
  return failures.reduce<number>((a, b) => a + b, 0);
}

/** The publishing of a runtime: its event destinations, the release records, its logger. */
export const eventPublishing = (rt: Pick<Runtime, 'releaseEvents' | 'logger'>, records: Pick<ReleaseStore, 'putEventFailure'>): EventPublishing => ({
  destinations: rt.releaseEvents(),
  records,
  logger: rt.logger,
});
