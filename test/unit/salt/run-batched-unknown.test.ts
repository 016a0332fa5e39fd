import { afterEach, describe, expect, it } from '@jest/globals';
import { runBatched } from '../../../lib/salt/run-batched.js';
import { SaltClient } from '../../../lib/salt/salt-client.js';
import { FakeSaltApi } from './fake-salt-api.js';

describe('runBatched with ids salt does not know', () => {
  let api: FakeSaltApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  const ok = { pid: 1, retcode: 0, stdout: 'done', stderr: '' };

  it('reports a job that matched no minion at all as NO_RETURN for its hosts, and still gathers the others', async () => {
    api = await new FakeSaltApi().start();
    const jid = '20261125000000000007';
    // salt starts no job for a target list without any accepted key: the element has no jid.
    api.root = (chunks) => ({ body: { return: chunks.map((c) => ((c as { tgt: string[] }).tgt[0] === 'ghost' ? {} : { jid, minions: ['h1'] })) } });
    api.jobs = () => ({ body: { info: [{ jid, Minions: ['h1'], Result: { h1: { return: ok, retcode: 0, success: true } } }], return: [{}] } });
    const salt = new SaltClient({ url: api.url, eauth: 'pam', username: api.user, password: api.password, timeoutMs: 2000, loginTimeoutMs: 2000 });
    const results = await runBatched(
      salt,
      [
        { host: 'h1', fun: 'cmd.run_all', arg: ['a'] },
        { host: 'ghost', fun: 'cmd.run_all', arg: ['b'] },
      ],
      { deadlineMs: Date.now() + 5000 },
    );
    expect(results.map((r) => [r.host, r.ok, r.error])).toEqual([
      ['h1', true, undefined],
      ['ghost', false, 'NO_RETURN'],
    ]);
    expect(results[1]!.message).toBe('Salt-master can not recognize ghost, please check if salt-minion installed on this target.');
    expect(api.count('GET', '/jobs/')).toBeGreaterThan(0);
  });

  it('starts even a single group asynchronously when asked to (long work outlives one HTTP request)', async () => {
    api = await new FakeSaltApi().start();
    const jid = '20261125000000000008';
    api.root = (chunks) => ({ body: { return: chunks.map(() => ({ jid, minions: ['h1', 'h2'] })) } });
    api.jobs = () => ({
      body: {
        info: [{ jid, Minions: ['h1', 'h2'], Result: { h1: { return: ok, retcode: 0, success: true }, h2: { return: ok, retcode: 0, success: true } } }],
        return: [{}],
      },
    });
    const salt = new SaltClient({ url: api.url, eauth: 'pam', username: api.user, password: api.password, timeoutMs: 2000, loginTimeoutMs: 2000 });
    const results = await runBatched(
      salt,
      [
        { host: 'h1', fun: 'test.x' },
        { host: 'h2', fun: 'test.x' },
      ],
      { deadlineMs: Date.now() + 5000, forceAsync: true },
    );
    expect(api.lowstateCalls[0]!.body).toMatchObject([{ client: 'local_async', tgt: ['h1', 'h2'] }]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });
});
