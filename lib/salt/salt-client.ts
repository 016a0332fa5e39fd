import got, { type Got, RequestError } from 'got';
import { SaltApiAuthError, SaltApiRequestError, SaltApiUnavailableError, SaltBusyError, SaltReplyTooLargeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SaltAdmission, Slot } from './admission.js';
import { buildLocal, buildMasterCall, type LocalCall, type Lowstate } from './build-lowstate.js';
import { failedResult, normaliseHostReturn, normaliseLocalReturn, unknownMinion, type HostResult, type NormaliseOptions } from './normalise-result.js';

export interface SaltClientOptions {
  url: string;
  eauth: string;
  username: string;
  password: string;
  /** PEM of the CA that signed salt-api's certificate. */
  ca?: string | undefined;
  /** Skip TLS verification: only by explicit configuration, never by default. */
  insecure?: boolean;
  /** Client-side timeout of one request; a stopped master makes salt-api hang forever. */
  timeoutMs: number;
  loginTimeoutMs: number;
  logger?: Logger;
  /** Bound on salt jobs in flight (per minion, in all); none when absent. */
  admission?: SaltAdmission;
  /** Bytes of one reply read at most (default 64 MiB): a minion's huge result must not exhaust the memory. */
  replyMaxBytes?: number;
  /** Seconds kept off a token's `expire` so it is never used at the edge of its life. */
  tokenMarginS?: number;
  now?: () => number;
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

export interface AsyncJob {
  jid: string;
  minions: string[];
}

export interface JobStatus {
  jid: string;
  /** Minions the master expects to answer. */
  minions: string[];
  /** Per minion that answered: the job-cache shape `{return, retcode, success}`. */
  results: Record<string, unknown>;
}

export interface WaitOptions {
  /** Absolute time (ms since epoch) after which hosts that have not answered count as NO_RETURN. */
  deadlineMs: number;
  signal?: AbortSignal;
  normalise?: NormaliseOptions;
  /** Called each time more hosts have answered (progress on long work). */
  onProgress?: (done: number, total: number) => void;
  /** How often silent hosts get a liveness probe (default 10 s). */
  livenessEveryMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

const DEFAULT_REPLY_MAX_BYTES = 64 * 1024 * 1024;

/** `local file.find on 3 hosts, runner jobs.list_job`: what a POST asked, for an error message. */
const describeChunks = (chunks: Lowstate[]): string =>
  chunks.map((c) => `${c.client} ${c.fun}${c.tgt ? ` on ${c.tgt.length} host${c.tgt.length === 1 ? '' : 's'}` : ''}`).join(', ');

/** The message CherryPy puts in its HTML error pages (`<p>...</p>`), or a JSON `return`. */
function errorText(body: unknown): string {
  if (typeof body === 'string') {
    const p = /<p>([\s\S]*?)<\/p>/.exec(body);
    return (p ? p[1]! : body)
      .replace(/<[^>]+>/g, '')
      .trim()
      .slice(0, 300);
  }
  const ret = (body as { return?: unknown } | null)?.return;
  return typeof ret === 'string' ? ret.slice(0, 300) : '';
}

/**
 * salt-api (rest_cherrypy) client. Logs in once and caches the session token until its expiry,
 * re-logs in once on a 401 and retries the call once. Every request has a client-side timeout.
 * Throws SaltApiUnavailableError (network, timeout, 5xx), SaltApiAuthError (credentials refused),
 * SaltApiRequestError (other 4xx), SaltReplyTooLargeError (a reply past `replyMaxBytes`, not read further).
 * Raw got errors never escape: they carry the token and the password.
 */
export class SaltClient {
  private readonly http: Got;
  private token: CachedToken | undefined;
  private loginInFlight: Promise<CachedToken> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SaltClientOptions) {
    this.now = options.now ?? Date.now;
    this.http = got.extend({
      prefixUrl: options.url,
      throwHttpErrors: false,
      retry: { limit: 0 },
      headers: { accept: 'application/json' },
      https: {
        rejectUnauthorized: !options.insecure,
        ...(options.ca ? { certificateAuthority: options.ca } : {}),
      },
    });
    if (options.insecure) options.logger?.warn('salt-api TLS verification is OFF (SALT_API_INSECURE)');
  }

  /** Forgets the cached token (the next call logs in again). */
  invalidateToken(): void {
    this.token = undefined;
  }

  /** Logs in (or reuses a valid cached token). Concurrent callers share one login. */
  async login(): Promise<string> {
    if (this.token && this.token.expiresAtMs > this.now()) return this.token.token;
    this.loginInFlight ??= this.doLogin().finally(() => (this.loginInFlight = undefined));
    this.token = await this.loginInFlight;
    return this.token.token;
  }

  private async doLogin(): Promise<CachedToken> {
    const { url, eauth, username, password, loginTimeoutMs } = this.options;
    const response = await this.send('POST', 'login', {
      json: { username, password, eauth },
      timeoutMs: loginTimeoutMs,
    });
    if (response.statusCode === 401) {
      throw new SaltApiAuthError(`salt-api at ${url} refused the login of user "${username}" (eauth ${eauth})`);
    }
    this.checkStatus(response.statusCode, response.body, 'POST /login');
    const entry = (response.body as { return?: Array<{ token?: unknown; expire?: unknown }> } | null)?.return?.[0];
    if (typeof entry?.token !== 'string') {
      throw new SaltApiUnavailableError(`salt-api at ${url} answered /login without a token`);
    }
    this.options.logger?.redactor.register(entry.token);
    const margin = (this.options.tokenMarginS ?? 60) * 1000;
    const expireMs = typeof entry.expire === 'number' ? entry.expire * 1000 : this.now() + 3600_000;
    return { token: entry.token, expiresAtMs: Math.max(this.now(), expireMs - margin) };
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    options: { json?: unknown; token?: string; timeoutMs?: number; signal?: AbortSignal | undefined; what?: string | undefined },
  ): Promise<{ statusCode: number; body: unknown }> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const maxBytes = this.options.replyMaxBytes ?? DEFAULT_REPLY_MAX_BYTES;
    // got has no size limit and buffers the whole body: count while it reads (the declared length first)
    // and abort the request past the cap.
    const tooLarge = new AbortController();
    let seen = 0;
    try {
      const request = this.http(path, {
        method,
        ...(options.json !== undefined ? { json: options.json } : {}),
        ...(options.token ? { headers: { 'x-auth-token': options.token } } : {}),
        timeout: { request: timeoutMs },
        signal: options.signal ? AbortSignal.any([options.signal, tooLarge.signal]) : tooLarge.signal,
      });
      request.on('downloadProgress', (progress: { transferred: number; total?: number | undefined }) => {
        seen = Math.max(progress.transferred, progress.total ?? 0);
        if (seen > maxBytes && !tooLarge.signal.aborted) tooLarge.abort();
      });
      const response = await request;
      let body: unknown = response.body;
      if (/json/.test(String(response.headers['content-type'] ?? ''))) {
        try {
          body = JSON.parse(response.body);
        } catch {
          throw new SaltApiUnavailableError(`salt-api at ${this.options.url} sent invalid JSON for ${method} /${path}`);
        }
      }
      return { statusCode: response.statusCode, body };
    } catch (error) {
      if (error instanceof SaltApiUnavailableError) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      if (tooLarge.signal.aborted) {
        throw new SaltReplyTooLargeError(
          `salt-api's reply to ${method} /${path}${options.what ? ` (${options.what})` : ''} is larger than SALT_REPLY_MAX_BYTES ` +
            `(${maxBytes} bytes; ${seen} seen): not read further. Ask fewer hosts or for less output, or raise the cap`,
        );
      }
      const code = error instanceof RequestError ? error.code : 'ERROR';
      const what = code === 'ETIMEDOUT' ? `did not answer within ${timeoutMs} ms` : `could not be reached (${code})`;
      throw new SaltApiUnavailableError(`salt-api at ${this.options.url} ${what} for ${method} /${path}`);
    }
  }

  private checkStatus(status: number, body: unknown, what: string): void {
    if (status >= 200 && status < 300) return;
    const text = errorText(body);
    if (status >= 500) {
      throw new SaltApiUnavailableError(`salt-api answered ${status} to ${what}${text ? `: ${text}` : ''}`);
    }
    throw new SaltApiRequestError(`salt-api rejected ${what} with ${status}${text ? `: ${text}` : ''}`, status);
  }

  /** An authenticated request; on 401 logs in again once and retries once. */
  private async authed(method: 'GET' | 'POST', path: string, json: unknown, timeoutMs?: number, signal?: AbortSignal, what?: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.login();
      const response = await this.send(method, path, { json, token, timeoutMs, signal, what });
      if (response.statusCode === 401) {
        this.invalidateToken();
        if (attempt === 0) {
          this.options.logger?.info('salt-api session rejected, logging in again', { path });
          continue;
        }
        throw new SaltApiAuthError(`salt-api refused the session for ${method} /${path} after a fresh login: ${errorText(response.body)}`);
      }
      this.checkStatus(response.statusCode, response.body, `${method} /${path}`);
      return response.body;
    }
  }

  /** Sends lowstate chunks in one POST; returns one element per chunk. */
  async lowstate(chunks: Lowstate[], options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown[]> {
    const body = await this.authed('POST', '', chunks, options.timeoutMs, options.signal, describeChunks(chunks));
    const ret = (body as { return?: unknown } | null)?.return;
    if (!Array.isArray(ret) || ret.length !== chunks.length) {
      throw new SaltApiUnavailableError(`salt-api answered with ${Array.isArray(ret) ? ret.length : 'no'} return elements for ${chunks.length} chunks`);
    }
    return ret;
  }

  /**
   * Runs a function synchronously on a host list (full_return) and normalises every targeted host,
   * in target order; hosts absent from the answer are NO_RETURN. The job waits for admission slots on its
   * hosts first (unless `probe`: liveness checks must never queue behind the jobs they check); hosts of a
   * job that found no slot before its deadline are QUEUED, never asked.
   */
  async local(
    call: LocalCall,
    options: { signal?: AbortSignal; normalise?: NormaliseOptions; httpTimeoutMs?: number; probe?: boolean } = {},
  ): Promise<HostResult[]> {
    // salt waits `timeout` + `gather_job_timeout` for a silent minion: the HTTP timeout must outlast both.
    // A running job keeps the request open until it ends (salt re-checks it with find_job), so callers
    // running long functions pass `httpTimeoutMs` (their deadline) rather than raising salt's `timeout`.
    const saltWaitS = (call.timeout ?? 5) + (call.gatherJobTimeout ?? 10);
    const floorMs = (saltWaitS + 15) * 1000;
    const timeoutMs = Math.max(this.options.timeoutMs, floorMs, options.httpTimeoutMs ?? 0);
    const started = this.now();
    return this.admitted(call.tgt, { deadlineMs: started + timeoutMs, signal: options.signal, probe: options.probe }, async (slot) => {
      // Time spent in the queue counts against the caller's deadline, never below what salt itself waits.
      const left = Math.max(floorMs, timeoutMs - (this.now() - started));
      // salt's synchronous local misses the return of one of two jobs running on a minion at once and then
      // waits out `timeout` (a 5 s stall, about every other time): with another job in flight on one of the
      // hosts, the job is started async and gathered from the job cache instead.
      if (slot?.contended) {
        return this.localViaJob(call, { deadlineMs: this.now() + left, signal: options.signal, normalise: options.normalise });
      }
      const [element] = await this.lowstate([buildLocal(call, 'sync')], { timeoutMs: left, ...(options.signal && { signal: options.signal }) });
      return normaliseLocalReturn(call.tgt, element, options.normalise);
    });
  }

  /** `local` as an async job gathered from the job cache: every target in order, unknown ids NO_RETURN. */
  private async localViaJob(
    call: LocalCall,
    options: { deadlineMs: number; signal?: AbortSignal | undefined; normalise?: NormaliseOptions | undefined },
  ): Promise<HostResult[]> {
    const [job] = await this.localAsync([call], { ...(options.signal && { signal: options.signal }), noMatch: 'empty' });
    const expected = new Set(job!.minions);
    const waiting = call.tgt.filter((h) => expected.has(h));
    const answered = waiting.length
      ? await this.waitForJob(job!.jid, waiting, {
          deadlineMs: options.deadlineMs,
          ...(options.signal && { signal: options.signal }),
          ...(options.normalise && { normalise: options.normalise }),
        })
      : [];
    const byHost = new Map(answered.map((r) => [r.host, r]));
    return call.tgt.map((host) => byHost.get(host) ?? unknownMinion(host));
  }

  /**
   * Runs `work` holding one admission slot on each host of `hosts` (and one of the total); when none is
   * free before `deadlineMs`, gives every host a QUEUED result naming the wait instead of running it.
   */
  async admitted(
    hosts: readonly string[],
    options: { deadlineMs: number; signal?: AbortSignal | undefined; probe?: boolean | undefined },
    work: (slot: Slot | undefined) => Promise<HostResult[]>,
  ): Promise<HostResult[]> {
    const admission = this.options.admission;
    if (!admission || options.probe || !hosts.length) return work(undefined);
    let slot: Slot;
    try {
      slot = await admission.acquire(hosts, { deadlineMs: options.deadlineMs, signal: options.signal });
    } catch (error) {
      if (!(error instanceof SaltBusyError)) throw error;
      this.options.logger?.warn('salt job not started: no salt slot before the deadline', { hosts: hosts.length, message: error.message });
      return [...new Set(hosts)].map((host) => failedResult(host, 'QUEUED', `Minion ${host} was not asked: ${error.message}`));
    }
    if (slot.waitedMs >= 1000) this.options.logger?.info('salt slot granted after a wait', { hosts: hosts.length, waitedMs: slot.waitedMs });
    try {
      return await work(slot);
    } finally {
      slot.release();
    }
  }

  /**
   * Starts one or more functions asynchronously in one POST; returns their jids. A call that matched no
   * minion at all (salt starts no job) throws, or with `noMatch: 'empty'` gives `{jid: '', minions: []}`.
   */
  async localAsync(calls: LocalCall[], options: { signal?: AbortSignal; noMatch?: 'throw' | 'empty' } = {}): Promise<AsyncJob[]> {
    const ret = await this.lowstate(
      calls.map((c) => buildLocal(c, 'async')),
      options.signal ? { signal: options.signal } : {},
    );
    return ret.map((element, i) => {
      const jid = (element as { jid?: unknown } | null)?.jid;
      if (typeof jid !== 'string' || !jid) {
        if (options.noMatch === 'empty') return { jid: '', minions: [] };
        throw new SaltApiRequestError(`salt did not start ${calls[i]!.fun}: no minion matched ${calls[i]!.tgt.join(',')}`, 200);
      }
      const minions = (element as { minions?: unknown }).minions;
      this.options.logger?.info('salt job started', { jid, fun: calls[i]!.fun, targets: calls[i]!.tgt.length });
      return { jid, minions: Array.isArray(minions) ? minions.map(String) : [] };
    });
  }

  /** Reads a job from the job cache (`GET /jobs/<jid>`, falling back to runner jobs.list_job). */
  async jobStatus(jid: string, signal?: AbortSignal): Promise<JobStatus> {
    if (!/^\d{20}$/.test(jid)) throw new SaltApiRequestError(`not a salt jid: "${jid}"`, 400);
    const body = await this.authed('GET', `jobs/${jid}`, undefined, undefined, signal, `job ${jid}`);
    let info = (body as { info?: Array<Record<string, unknown>> } | null)?.info?.[0];
    if (!info || 'Error' in info) {
      const [listed] = await this.lowstate([buildMasterCall('runner', 'jobs.list_job', { jid })], signal ? { signal } : {});
      info = (listed ?? {}) as Record<string, unknown>;
    }
    const minions = Array.isArray(info['Minions']) ? info['Minions'].map(String) : [];
    const results = (info['Result'] && typeof info['Result'] === 'object' ? info['Result'] : {}) as Record<string, unknown>;
    return { jid, minions, results };
  }

  /**
   * Polls a job until every expected host has answered or the deadline passes; hosts still silent at
   * the deadline are NO_RETURN. Returns one result per host of `hosts`, in that order.
   */
  async waitForJob(jid: string, hosts: readonly string[], options: WaitOptions): Promise<HostResult[]> {
    const wanted = [...new Set(hosts)];
    const livenessEveryMs = options.livenessEveryMs ?? 10_000;
    let nextProbeAt = this.now() + livenessEveryMs;
    // Hosts found gone by a liveness probe, with why; a host needs two probes in a row to be given up.
    const gone = new Map<string, string>();
    const idleProbes = new Map<string, number>();
    // Hosts the last probe found still running the job: at the deadline they are busy, not unreachable.
    const running = new Set<string>();
    const startedAt = this.now();
    let delay = 150;
    let seen = -1;
    for (;;) {
      const status = await this.jobStatus(jid, options.signal);
      const done = wanted.filter((h) => h in status.results).length;
      if (done !== seen) options.onProgress?.(done, wanted.length);
      seen = done;
      const silent = wanted.filter((h) => !(h in status.results) && !gone.has(h));
      const timedOut = this.now() >= options.deadlineMs;
      if (!silent.length || timedOut) {
        this.options.logger?.info('salt job gathered', { jid, answered: done, expected: wanted.length, timedOut: done + gone.size < wanted.length });
        return wanted.map((host) => {
          if (host in status.results) return normaliseHostReturn(host, status.results[host], options.normalise);
          const result = normaliseHostReturn(host, undefined);
          if (!gone.has(host) && running.has(host)) {
            const after = Math.round((this.now() - startedAt) / 1000);
            return {
              ...result,
              error: 'BUSY' as const,
              jid,
              message: `Minion ${host} is busy: job ${jid} was still running there after ${after} s (the deadline)`,
            };
          }
          result.message = gone.get(host) ?? `Minion ${host} did not return before the deadline (job ${jid})`;
          return result;
        });
      }
      if (this.now() >= nextProbeAt) {
        await this.probeLiveness(jid, silent, gone, idleProbes, running, options.signal);
        nextProbeAt = this.now() + livenessEveryMs;
        continue;
      }
      await sleep(Math.min(delay, Math.max(0, Math.min(options.deadlineMs, nextProbeAt) - this.now())), options.signal);
      delay = Math.min(delay * 2, 1000);
    }
  }

  /**
   * Asks silent hosts whether they still run the job (`saltutil.find_job`, as salt's own CLI does), so a
   * stopped minion is reported within seconds instead of at the deadline. A host that does not answer
   * the probe is gone; one that answers but no longer runs the job and has not returned is given up
   * after two probes in a row (a return may be in flight the first time).
   */
  private async probeLiveness(
    jid: string,
    silent: string[],
    gone: Map<string, string>,
    idleProbes: Map<string, number>,
    running: Set<string>,
    signal?: AbortSignal,
  ): Promise<void> {
    const probes = await this.local(
      { fun: 'saltutil.find_job', arg: [jid], tgt: silent, timeout: 5, gatherJobTimeout: 5 },
      { ...(signal && { signal }), probe: true },
    );
    for (const probe of probes) {
      if (!probe.ok && probe.error === 'NO_RETURN') {
        running.delete(probe.host);
        gone.set(probe.host, `Minion ${probe.host} did not return: it does not answer (stopped or unreachable) (job ${jid})`);
        continue;
      }
      const isRunning = probe.ok && probe.ret !== null && typeof probe.ret === 'object' && Object.keys(probe.ret).length > 0;
      if (isRunning) running.add(probe.host);
      else running.delete(probe.host);
      const idle = isRunning ? 0 : (idleProbes.get(probe.host) ?? 0) + 1;
      idleProbes.set(probe.host, idle);
      if (idle >= 2) gone.set(probe.host, `Minion ${probe.host} did not return: the job is not running there and no result came back (job ${jid})`);
    }
    if (gone.size) this.options.logger?.warn('salt job: hosts given up', { jid, hosts: [...gone.keys()] });
  }

  /** Runs a runner function on the master; returns its raw value. */
  async runner(fun: string, kwarg: Record<string, unknown> = {}, signal?: AbortSignal): Promise<unknown> {
    const [ret] = await this.lowstate([buildMasterCall('runner', fun, kwarg)], signal ? { signal } : {});
    return ret;
  }

  /** Runs a wheel function (keys...) on the master; returns `data.return`, throws if `success` is false. */
  async wheel(fun: string, kwarg: Record<string, unknown> = {}, signal?: AbortSignal): Promise<unknown> {
    const [ret] = await this.lowstate([buildMasterCall('wheel', fun, kwarg)], signal ? { signal } : {});
    const data = (ret as { data?: { return?: unknown; success?: unknown } } | null)?.data;
    if (!data || data.success === false) {
      const text = typeof data?.return === 'string' ? data.return.split('\n').filter(Boolean).pop() : 'no data';
      throw new SaltApiRequestError(`wheel ${fun} failed: ${text}`, 200);
    }
    return data.return;
  }
}
