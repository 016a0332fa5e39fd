/**
 * What every core returns per item and runs with: shared by the WeCube adapters (lib/wecube), deploy and the
 * release tasks, so that no core depends on the WeCube layer.
 */
import type { Logger } from './log/logger.js';

/** What one item produced: its output fields, or the error that stopped it (with any partial output). */
export type ItemOutcome<O> = { ok: true; output: O } | { ok: false; error: unknown; output?: Partial<O> };

/** What a core runs with: its logger, the caller's abort signal, and how many items it may work on at once. */
export interface RunContext {
  logger: Logger;
  signal: AbortSignal;
  /** Item concurrency limit for per-item work (API_CONCURRENT_NUM). */
  concurrency: number;
}
