/** One salt-api lowstate chunk. Targets are always minion ids in a `list` (never the removed `expr_form`). */
export interface Lowstate {
  client: 'local' | 'local_async' | 'runner' | 'wheel' | 'runner_async' | 'wheel_async';
  fun: string;
  tgt?: string[];
  tgt_type?: 'list';
  arg?: unknown[];
  kwarg?: Record<string, unknown>;
  timeout?: number;
  gather_job_timeout?: number;
  full_return?: boolean;
  [key: string]: unknown;
}

/** A function to run on a set of minions. */
export interface LocalCall {
  fun: string;
  /** Minion ids (host IPs). */
  tgt: readonly string[];
  arg?: readonly unknown[];
  kwarg?: Readonly<Record<string, unknown>>;
  /** Seconds salt waits for minions to answer (lowstate `timeout`); not a bound on the function itself. */
  timeout?: number;
  /** Seconds salt waits for a find_job answer before declaring a minion gone. */
  gatherJobTimeout?: number;
}

const uniqueHosts = (tgt: readonly string[]): string[] => [...new Set(tgt)];

/** Builds a `local` chunk with full_return (real retcodes), or a `local_async` chunk. */
export function buildLocal(call: LocalCall, mode: 'sync' | 'async' = 'sync'): Lowstate {
  if (call.tgt.length === 0) throw new Error('buildLocal: empty target list');
  const chunk: Lowstate = {
    client: mode === 'sync' ? 'local' : 'local_async',
    tgt: uniqueHosts(call.tgt),
    tgt_type: 'list',
    fun: call.fun,
  };
  if (call.arg?.length) chunk.arg = [...call.arg];
  if (call.kwarg && Object.keys(call.kwarg).length) chunk.kwarg = { ...call.kwarg };
  if (mode === 'sync') {
    chunk.full_return = true;
    if (call.timeout !== undefined) chunk.timeout = call.timeout;
    if (call.gatherJobTimeout !== undefined) chunk.gather_job_timeout = call.gatherJobTimeout;
  }
  return chunk;
}

/** Builds a `runner` or `wheel` chunk; their kwargs go top-level, as salt-api expects. */
export function buildMasterCall(client: 'runner' | 'wheel', fun: string, kwarg: Record<string, unknown> = {}): Lowstate {
  return { ...kwarg, client, fun };
}

/** A stable key for "the same function with the same arguments", used to batch items into one job. */
export function callKey(call: Pick<LocalCall, 'fun' | 'arg' | 'kwarg' | 'timeout' | 'gatherJobTimeout'>): string {
  return JSON.stringify([call.fun, call.arg ?? [], sortKeys(call.kwarg ?? {}), call.timeout, call.gatherJobTimeout]);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
