import type { ArtifactStore } from './artifacts/artifact-store.js';
import type { Config } from './config.js';
import type { Logger } from './log/logger.js';
import type { ReleaseEvents } from './releases/release-events.js';
import type { ReleaseRunner } from './releases/step-functions-port.js';
import type { SaltClient } from './salt/salt-client.js';

/**
 * Clients shared by the handlers of one container, built by the composition root (runtime.ts). Only types
 * here: lib/ depends on this file, the root depends on lib/, so the two never import each other.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  salt(): SaltClient;
  /** The S3 artifact store (config.s3), built on first use and reused. */
  store(): ArtifactStore;
  /** The release state machine and the port that runs it (AWS Step Functions or in-process), built on first use. */
  releaseRunner(): Promise<ReleaseRunner>;
  /**
   * Brings the runtime up to date before a call (the secret of SECRETS_ID fetched, or fetched again past its
   * TTL); handlers await it first. Absent: nothing to refresh (a runtime built from a config).
   */
  ready?(signal?: AbortSignal): Promise<void>;
  /** Where release events go (EventBridge, the webhook, both or none: config.releases.events), built on first use. */
  releaseEvents(): readonly ReleaseEvents[];
}
