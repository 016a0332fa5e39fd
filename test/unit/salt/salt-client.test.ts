import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { JobTimeoutError, SaltApiAuthError, SaltApiRequestError, SaltApiUnavailableError, SaltBusyError } from '../../../lib/errors.js';
import { SaltAdmission } from '../../../lib/salt/admission.js';
import { hostError } from '../../../lib/salt/host-error.js';
import { runBatched } from '../../../lib/salt/run-batched.js';
import { buildLocal } from '../../../lib/salt/build-lowstate.js';
import { SaltClient, type SaltClientOptions } from '../../../lib/salt/salt-client.js';
import { captureLogger, loadSample } from '../helpers.js';
import { FakeSaltApi } from './fake-salt-api.js';

const PING = [buildLocal({ fun: 'test.ping', tgt: ['minion-a'] })];
const JID = '20261125104154273228';

const servers: FakeSaltApi[] = [];
async function fake(tls?: { key: string; cert: string }): Promise<FakeSaltApi> {
  const server = await new FakeSaltApi().start(tls);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function client(api: FakeSaltApi, extra: Partial<SaltClientOptions> = {}): SaltClient {
  return new SaltClient({
    url: api.url,
    eauth: 'pam',
    username: api.user,
    password: api.password,
    timeoutMs: 2000,
    loginTimeoutMs: 2000,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

/** Asserts that no text derived from the error carries the password or any token the server issued. */
function expectNoSecrets(error: Error, api: FakeSaltApi) {
  const texts = [error.message, String(error), inspect(error, { depth: 6 }), JSON.stringify(error)];
  for (const text of texts) {
    expect(text).not.toContain(api.password);
    for (const token of api.issued) expect(text).not.toContain(token);
  }
}

describe('SaltClient login and token cache', () => {
  it('logs in once and reuses the token for 3 calls', async () => {
    const api = await fake();
    const salt = client(api);
    for (let i = 0; i < 3; i++) await salt.lowstate(PING);
    expect(api.logins).toBe(1);
    expect(api.lowstateCalls).toHaveLength(3);
    expect(new Set(api.lowstateCalls.map((r) => r.token))).toEqual(new Set([api.issued[0]]));
  });

  it('sends the configured user, password and eauth to /login', async () => {
    const api = await fake();
    await client(api).login();
    expect(api.received[0]).toMatchObject({ method: 'POST', path: '/login', body: { username: 'saltapi', password: api.password, eauth: 'pam' } });
  });

  it('shares one login between concurrent calls', async () => {
    const api = await fake();
    api.loginDelayMs = 100;
    const salt = client(api);
    await Promise.all([salt.lowstate(PING), salt.lowstate(PING), salt.lowstate(PING)]);
    expect(api.logins).toBe(1);
    expect(api.lowstateCalls).toHaveLength(3);
  });

  it('logs in again exactly once and retries exactly once after a 401 (salt-api restarted)', async () => {
    const api = await fake();
    const salt = client(api);
    await salt.lowstate(PING);
    api.valid.clear();
    const [element] = await salt.lowstate(PING);
    expect(element).toEqual({});
    expect(api.logins).toBe(2);
    expect(api.lowstateCalls).toHaveLength(3);
    expect(api.lowstateCalls[2]!.token).toBe(api.issued[1]);
  });

  it('gives SaltApiAuthError when the call is refused again after the fresh login', async () => {
    const api = await fake();
    api.reject401 = 2;
    const error = await failure(client(api).lowstate(PING));
    expect(error).toBeInstanceOf(SaltApiAuthError);
    expect(error.message).toContain('No permission');
    expect(api.logins).toBe(2);
    expect(api.lowstateCalls).toHaveLength(2);
  });

  it('gives SaltApiAuthError naming the user, not the password, when /login refuses the credentials', async () => {
    const api = await fake();
    const error = await failure(client(api, { password: 'wrong-password-123' }).lowstate(PING));
    expect(error).toBeInstanceOf(SaltApiAuthError);
    expect(error.message).toContain('"saltapi"');
    expect(error.message).not.toContain('wrong-password-123');
    expect(api.lowstateCalls).toHaveLength(0);
  });

  it('logs in again when the cached token reaches its expiry minus the margin', async () => {
    const api = await fake();
    let clock = Date.UTC(2026, 10, 25, 10, 0, 0);
    api.expire = () => clock / 1000 + 3600;
    const salt = client(api, { now: () => clock, tokenMarginS: 60 });
    await salt.lowstate(PING);
    clock += (3600 - 120) * 1000; // 2 min before expiry: still outside the 60 s margin
    await salt.lowstate(PING);
    expect(api.logins).toBe(1);
    clock += 90 * 1000; // 30 s before expiry: inside the margin
    await salt.lowstate(PING);
    expect(api.logins).toBe(2);
    expect(api.lowstateCalls[2]!.token).toBe(api.issued[1]);
  });

  it('logs in again on the next call when /login hands out a token that has already expired', async () => {
    const api = await fake();
    let clock = Date.UTC(2026, 10, 25, 10, 0, 0);
    api.expire = () => clock / 1000 - 10;
    const salt = client(api, { now: () => clock });
    await salt.lowstate(PING);
    clock += 1000;
    await salt.lowstate(PING);
    expect(api.logins).toBe(2);
  });

  it('registers the token with the logger redactor', async () => {
    const api = await fake();
    const { logger, lines } = captureLogger();
    await client(api, { logger }).login();
    logger.info('x', { detail: `header x-auth-token: ${api.issued[0]}` });
    expect(lines.join('\n')).not.toContain(api.issued[0]);
  });
});

describe('SaltClient failures', () => {
  it('gives SaltApiUnavailableError within the timeout when salt-api never answers', async () => {
    const api = await fake();
    api.root = () => 'hang';
    const timeoutMs = 300;
    const salt = client(api, { timeoutMs });
    await salt.login();
    const started = Date.now();
    const error = await failure(salt.lowstate(PING));
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(SaltApiUnavailableError);
    expect(error.message).toContain(`${timeoutMs} ms`);
    expect(elapsed).toBeLessThan(5 * timeoutMs);
  });

  it('gives SaltApiUnavailableError within the login timeout when /login never answers', async () => {
    const api = await fake();
    api.loginHandler = () => 'hang';
    const started = Date.now();
    const error = await failure(client(api, { loginTimeoutMs: 250, timeoutMs: 10_000 }).lowstate(PING));
    expect(error).toBeInstanceOf(SaltApiUnavailableError);
    expect(Date.now() - started).toBeLessThan(5 * 250);
  });

  it('gives SaltApiUnavailableError when nothing listens on the port', async () => {
    const api = await fake();
    const url = api.url;
    await api.stop();
    const error = await failure(new SaltClient({ url, eauth: 'pam', username: 'u', password: 'p-secret', timeoutMs: 1000, loginTimeoutMs: 1000 }).login());
    expect(error).toBeInstanceOf(SaltApiUnavailableError);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it("gives SaltApiUnavailableError with salt-api's text for a 500 (master down, sample 178)", async () => {
    const api = await fake();
    api.root = () => ({ status: 500, body: loadSample('178').response.body });
    const error = await failure(client(api).lowstate(PING));
    expect(error).toBeInstanceOf(SaltApiUnavailableError);
    expect(error.message).toContain('500');
    expect(error.message).toContain('An unexpected error occurred');
  });

  it.each([
    ['110', "Invalid client specified: 'bogus'"],
    ['111', "Client disabled: 'ssh'. Add to 'netapi_enable_clients' master config option to enable."],
  ])('gives SaltApiRequestError carrying the <p> text of the 400 page of sample %s', async (sample, text) => {
    const api = await fake();
    api.root = () => ({ status: 400, body: String(loadSample(sample).response.body), contentType: 'text/html;charset=utf-8' });
    const error = await failure(client(api).lowstate(PING));
    expect(error).toBeInstanceOf(SaltApiRequestError);
    expect((error as SaltApiRequestError).status).toBe(400);
    expect(error.message).toContain(text);
    expect(error.message).not.toContain('<');
  });

  it('gives SaltApiUnavailableError for a JSON content type with a body that is not JSON', async () => {
    const api = await fake();
    api.root = () => ({ body: '{"return": [', contentType: 'application/json' });
    expect(await failure(client(api).lowstate(PING))).toBeInstanceOf(SaltApiUnavailableError);
  });

  it('gives SaltApiUnavailableError when the number of return elements does not match the chunks', async () => {
    const api = await fake();
    api.root = () => ({ body: { return: [{}, {}] } });
    const error = await failure(client(api).lowstate(PING));
    expect(error).toBeInstanceOf(SaltApiUnavailableError);
    expect(error.message).toContain('2 return elements for 1 chunks');
  });

  it('never puts the password or a token in an error, whatever failed', async () => {
    const api = await fake();
    const errors: Error[] = [];
    const scenarios: Array<() => void> = [
      () => (api.reject401 = 2),
      () => (api.root = () => 'hang'),
      () => (api.root = () => ({ status: 500, body: loadSample('178').response.body })),
      () => (api.root = () => ({ status: 400, body: String(loadSample('110').response.body), contentType: 'text/html' })),
      () => (api.root = () => ({ status: 403, body: { return: 'forbidden' } })),
    ];
    for (const arrange of scenarios) {
      api.root = () => ({ body: { return: [{}] } });
      arrange();
      errors.push(await failure(client(api, { timeoutMs: 200 }).lowstate(PING)));
    }
    errors.push(await failure(client(api, { password: `${api.password}-wrong` }).login()));
    expect(api.issued.length).toBeGreaterThanOrEqual(5);
    expect(errors).toHaveLength(6);
    for (const error of errors) expectNoSecrets(error, api);
  });
});

describe('SaltClient.local and localAsync', () => {
  it('sends one list-targeted full_return chunk and returns every target in target order', async () => {
    const api = await fake();
    api.root = () => ({ body: loadSample('118').response.body });
    const results = await client(api).local({ fun: 'test.ping', tgt: ['offline-minion', 'minion-a', 'ghost-minion'] });
    expect(api.lowstateCalls).toHaveLength(1);
    expect(api.lowstateCalls[0]!.body).toEqual([
      { client: 'local', tgt: ['offline-minion', 'minion-a', 'ghost-minion'], tgt_type: 'list', fun: 'test.ping', full_return: true },
    ]);
    expect(results.map((r) => [r.host, r.ok, r.error])).toEqual([
      ['offline-minion', false, 'NO_RETURN'],
      ['minion-a', true, undefined],
      ['ghost-minion', false, 'NO_RETURN'],
    ]);
  });

  it('starts several async jobs in one POST and returns their jids', async () => {
    const api = await fake();
    api.root = (chunks) => ({ body: { return: chunks.map((_, i) => ({ jid: `2026112510414335877${i}`, minions: ['minion-a'] })) } });
    const jobs = await client(api).localAsync([
      { fun: 'cmd.run_all', tgt: ['minion-a'], arg: ['a'] },
      { fun: 'cmd.run_all', tgt: ['minion-a'], arg: ['b'] },
    ]);
    expect(jobs).toEqual([
      { jid: '20261125104143358770', minions: ['minion-a'] },
      { jid: '20261125104143358771', minions: ['minion-a'] },
    ]);
    expect(api.lowstateCalls).toHaveLength(1);
    expect((api.lowstateCalls[0]!.body as Array<{ client: string }>).map((c) => c.client)).toEqual(['local_async', 'local_async']);
  });

  it('gives SaltApiRequestError naming the targets when salt starts no job (no minion matched)', async () => {
    const api = await fake();
    api.root = () => ({ body: loadSample('022').response.body });
    const error = await failure(client(api).localAsync([{ fun: 'test.ping', tgt: ['10.9.9.9'] }]));
    expect(error).toBeInstanceOf(SaltApiRequestError);
    expect(error.message).toContain('10.9.9.9');
  });
});

describe('SaltClient.waitForJob', () => {
  const running = () => ({ body: loadSample('090').response.body });
  const done = () => ({ body: loadSample('094').response.body });

  it('polls /jobs/<jid> until every host has answered, then returns them in host order', async () => {
    const api = await fake();
    let polls = 0;
    api.jobs = () => (++polls < 2 ? running() : done());
    const progress: Array<[number, number]> = [];
    const started = Date.now();
    const results = await client(api).waitForJob(JID, ['minion-a', 'minion-b'], {
      deadlineMs: Date.now() + 5000,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(results.map((r) => [r.host, r.ok, r.stdout])).toEqual([
      ['minion-a', true, 'slept'],
      ['minion-b', true, 'slept'],
    ]);
    expect(api.count('GET', `/jobs/${JID}`)).toBe(2);
    expect(progress).toEqual([
      [0, 2],
      [2, 2],
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('marks hosts that are still silent at the deadline NO_RETURN, naming the job', async () => {
    const api = await fake();
    const onlyA = loadSample('094').response.body as { info: Array<{ Result: Record<string, unknown> }> };
    delete onlyA.info[0]!.Result['minion-b'];
    api.jobs = () => ({ body: onlyA });
    const deadlineMs = Date.now() + 400;
    const results = await client(api).waitForJob(JID, ['minion-b', 'minion-a'], { deadlineMs });
    expect(Date.now()).toBeGreaterThanOrEqual(deadlineMs);
    expect(Date.now() - deadlineMs).toBeLessThan(1500);
    expect(results[0]).toMatchObject({ host: 'minion-b', ok: false, error: 'NO_RETURN' });
    expect(results[0]!.message).toContain(JID);
    expect(results[0]!.message).toContain('deadline');
    expect(results[1]).toMatchObject({ host: 'minion-a', ok: true });
    expect(api.count('GET', '/jobs/')).toBeGreaterThan(1);
  });

  it('falls back to the jobs.list_job runner when /jobs does not know the jid', async () => {
    const api = await fake();
    api.jobs = () => ({ body: loadSample('095').response.body });
    const info = (loadSample('094').response.body as { info: unknown[] }).info[0];
    api.root = () => ({ body: { return: [info] } });
    const results = await client(api).waitForJob(JID, ['minion-a'], { deadlineMs: Date.now() + 5000 });
    expect(results[0]).toMatchObject({ host: 'minion-a', ok: true, stdout: 'slept' });
    expect(api.lowstateCalls[0]!.body).toEqual([{ client: 'runner', fun: 'jobs.list_job', jid: JID }]);
  });

  it('refuses something that is not a jid without calling salt-api', async () => {
    const api = await fake();
    const error = await failure(client(api).waitForJob('../../etc', ['minion-a'], { deadlineMs: Date.now() + 1000 }));
    expect(error).toBeInstanceOf(SaltApiRequestError);
    expect(api.received).toHaveLength(0);
  });
});

describe('SaltClient TLS', () => {
  let dir: string;
  let tls: { key: string; cert: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'salt-tls-unit-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies certificates by default: a self-signed salt-api is refused without its CA', async () => {
    const api = await fake(tls);
    const error = await failure(client(api).login());
    expect(error).toBeInstanceOf(SaltApiUnavailableError);
    expect(error.message).toMatch(/SELF_SIGNED|CERT/);
    expect(api.received).toHaveLength(0);
  });

  it('accepts the self-signed salt-api when given its CA', async () => {
    const api = await fake(tls);
    const salt = client(api, { ca: tls.cert });
    await salt.lowstate(PING);
    expect(api.logins).toBe(1);
  });

  it('accepts it with verification off only when insecure is set, and warns', async () => {
    const api = await fake(tls);
    const { logger, lines } = captureLogger();
    await client(api, { insecure: true, logger }).login();
    expect(api.logins).toBe(1);
    expect(lines.some((l) => /TLS verification is OFF/.test(l))).toBe(true);
  });
});

describe('SaltClient admission and honest errors', () => {
  it('never has more jobs in flight on a minion than the admission allows; the others wait their turn', async () => {
    const api = await fake();
    let inFlight = 0;
    let peak = 0;
    api.root = async (chunks) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 60));
      inFlight--;
      return { body: { return: chunks.map(() => ({ 'minion-a': { ret: true, retcode: 0, jid: JID } })) } };
    };
    const salt = client(api, { admission: new SaltAdmission({ perMinion: 1, total: 10 }) });
    const results = await Promise.all(Array.from({ length: 5 }, () => salt.local({ fun: 'test.ping', tgt: ['minion-a'] })));
    expect(results.flat().map((r) => r.ok)).toEqual([true, true, true, true, true]);
    expect(peak).toBe(1);
  });

  it("runs a job as async when another one is in flight on the same minion (salt's sync call stalls then)", async () => {
    const api = await fake();
    const chunksSeen: string[] = [];
    api.root = async (chunks) => {
      const chunk = chunks[0] as { client: string };
      chunksSeen.push(chunk.client);
      if (chunk.client === 'local_async') return { body: { return: [{ jid: JID, minions: ['minion-a'] }] } };
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { body: { return: [{ 'minion-a': { ret: true, retcode: 0, jid: JID } }] } };
    };
    api.jobs = () => ({
      body: { info: [{ jid: JID, Minions: ['minion-a'], Result: { 'minion-a': { return: true, retcode: 0, success: true } } }], return: [{}] },
    });
    const salt = client(api, { admission: new SaltAdmission({ perMinion: 2, total: 10 }) });
    const results = await Promise.all([salt.local({ fun: 'test.ping', tgt: ['minion-a'] }), salt.local({ fun: 'grains.items', tgt: ['minion-a'] })]);
    expect(results.flat().map((r) => r.ok)).toEqual([true, true]);
    expect(chunksSeen.sort()).toEqual(['local', 'local_async']);
  });

  it('a liveness probe never waits behind the jobs it checks', async () => {
    const api = await fake();
    api.root = () => ({ body: { return: [{ 'minion-a': { ret: {}, retcode: 0, jid: JID } }] } });
    const admission = new SaltAdmission({ perMinion: 1, total: 1 });
    const held = await admission.acquire(['minion-a'], { deadlineMs: Date.now() + 10_000 });
    const [probe] = await client(api, { admission }).local({ fun: 'saltutil.find_job', arg: [JID], tgt: ['minion-a'] }, { probe: true });
    expect(probe!.ok).toBe(true);
    held.release();
  });

  it('gives QUEUED results naming the wait, and asks salt nothing, when no slot frees before the deadline', async () => {
    const api = await fake();
    const admission = new SaltAdmission({ perMinion: 1, total: 10 });
    const held = await admission.acquire(['minion-a'], { deadlineMs: Date.now() + 10_000 });
    const before = api.lowstateCalls.length;
    const results = await runBatched(
      client(api, { admission }),
      [
        { host: 'minion-a', fun: 'test.ping' },
        { host: 'minion-b', fun: 'test.ping' },
      ],
      {
        deadlineMs: Date.now() + 150,
        forceAsync: true,
      },
    );
    expect(results.map((r) => [r.host, r.error])).toEqual([
      ['minion-a', 'QUEUED'],
      ['minion-b', 'QUEUED'],
    ]);
    expect(results[0]!.message).toMatch(
      /^Minion minion-a was not asked: waited 0\.\d s for a salt slot and gave up at the deadline: 1 salt jobs in flight on minion-a \(SALT_MAX_JOBS_PER_MINION 1\)$/,
    );
    expect(hostError(results[0]!)).toBeInstanceOf(SaltBusyError);
    expect(api.lowstateCalls.length).toBe(before);
    held.release();
    expect(admission.running()).toBe(0);
  });

  it('says a minion is busy, not unreachable, when it still runs the job at the deadline', async () => {
    const api = await fake();
    const onlyA = loadSample('094').response.body as { info: Array<{ Result: Record<string, unknown> }> };
    delete onlyA.info[0]!.Result['minion-b'];
    api.jobs = () => ({ body: onlyA });
    // find_job: minion-b still runs the job.
    api.root = (chunks) => ({ body: { return: chunks.map(() => ({ 'minion-b': { ret: { jid: JID, fun: 'cmd.run' }, retcode: 0, jid: '1' } })) } });
    const results = await client(api).waitForJob(JID, ['minion-b', 'minion-a'], { deadlineMs: Date.now() + 600, livenessEveryMs: 100 });
    expect(results[0]).toMatchObject({ host: 'minion-b', ok: false, error: 'BUSY', jid: JID });
    expect(results[0]!.message).toMatch(new RegExp(`^Minion minion-b is busy: job ${JID} was still running there after \\d+ s \\(the deadline\\)$`));
    const error = hostError(results[0]!);
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error.message).not.toContain('Cannot connect');
    expect(results[1]).toMatchObject({ host: 'minion-a', ok: true });
  });

  it('says a minion does not answer when the probe gets no reply', async () => {
    const api = await fake();
    const onlyA = loadSample('094').response.body as { info: Array<{ Result: Record<string, unknown> }> };
    delete onlyA.info[0]!.Result['minion-b'];
    api.jobs = () => ({ body: onlyA });
    api.root = (chunks) => ({ body: { return: chunks.map(() => ({ 'minion-b': false })) } });
    const results = await client(api).waitForJob(JID, ['minion-b', 'minion-a'], { deadlineMs: Date.now() + 5000, livenessEveryMs: 100 });
    expect(results[0]).toMatchObject({ host: 'minion-b', error: 'NO_RETURN' });
    expect(results[0]!.message).toContain('does not answer (stopped or unreachable)');
    expect(hostError(results[0]!).message).toMatch(/^Cannot connect to target minion-b\. /);
  });
});
