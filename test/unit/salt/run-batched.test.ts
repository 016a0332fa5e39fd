import { afterEach, describe, expect, it } from '@jest/globals';
import { groupCalls, runBatched, type HostCall } from '../../../lib/salt/run-batched.js';
import { SaltClient } from '../../../lib/salt/salt-client.js';
import { FakeSaltApi } from './fake-salt-api.js';

const run = (host: string, command: string, kwarg: Record<string, unknown> = { python_shell: false }): HostCall => ({
  host,
  fun: 'cmd.run_all',
  arg: [command],
  kwarg,
});

describe('groupCalls', () => {
  it('puts identical calls on 3 hosts into one group targeting the 3 hosts', () => {
    const groups = groupCalls([run('10.0.0.1', 'uptime'), run('10.0.0.2', 'uptime'), run('10.0.0.3', 'uptime')]);
    expect(groups).toEqual([
      {
        call: { fun: 'cmd.run_all', arg: ['uptime'], kwarg: { python_shell: false }, tgt: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
        indexes: [0, 1, 2],
      },
    ]);
  });

  it('treats kwargs in a different key order as the same call', () => {
    const groups = groupCalls([run('a', 'x', { cwd: '/tmp', runas: 'app' }), run('b', 'x', { runas: 'app', cwd: '/tmp' })]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.call.tgt).toEqual(['a', 'b']);
  });

  it('puts calls with different args into separate groups, in first-seen order', () => {
    const groups = groupCalls([run('h1', 'ls /a'), run('h2', 'ls /b'), run('h3', 'ls /a'), run('h4', 'ls /c')]);
    expect(groups.map((g) => [g.call.arg, g.call.tgt, g.indexes])).toEqual([
      [['ls /a'], ['h1', 'h3'], [0, 2]],
      [['ls /b'], ['h2'], [1]],
      [['ls /c'], ['h4'], [3]],
    ]);
  });

  it('puts calls with different functions or timeouts into separate groups', () => {
    const groups = groupCalls([
      { host: 'h', fun: 'grains.items' },
      { host: 'h', fun: 'disk.usage' },
      { host: 'h', fun: 'disk.usage', timeout: 30 },
    ]);
    expect(groups).toHaveLength(3);
  });

  it('keeps both indexes when the same host appears twice, and targets it once', () => {
    const groups = groupCalls([run('10.0.0.1', 'uptime'), run('10.0.0.2', 'uptime'), run('10.0.0.1', 'uptime')]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.indexes).toEqual([0, 1, 2]);
    expect(groups[0]!.call.tgt).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('returns no groups for no calls', () => {
    expect(groupCalls([])).toEqual([]);
  });

  it('does not put the host field into the salt call', () => {
    expect(groupCalls([run('h', 'x')])[0]!.call).not.toHaveProperty('host');
  });
});

describe('runBatched against a local fake salt-api', () => {
  const servers: FakeSaltApi[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const setup = async () => {
    const api = await new FakeSaltApi().start();
    servers.push(api);
    const salt = new SaltClient({ url: api.url, eauth: 'pam', username: api.user, password: api.password, timeoutMs: 2000, loginTimeoutMs: 2000 });
    return { api, salt };
  };
  const ok = (stdout: string) => ({ pid: 1, retcode: 0, stdout, stderr: '' });

  it('sends identical calls for 3 hosts as ONE sync job on the host list and returns results in call order', async () => {
    const { api, salt } = await setup();
    api.root = (chunks) => {
      const hosts = (chunks[0] as { tgt: string[] }).tgt;
      return { body: { return: [Object.fromEntries(hosts.map((h) => [h, { ret: ok(`up on ${h}`), retcode: 0, jid: '1' }]))] } };
    };
    const results = await runBatched(salt, [run('10.0.0.3', 'uptime'), run('10.0.0.1', 'uptime'), run('10.0.0.2', 'uptime')], {
      deadlineMs: Date.now() + 5000,
    });
    expect(api.lowstateCalls).toHaveLength(1);
    expect(api.lowstateCalls[0]!.body).toMatchObject([{ client: 'local', tgt: ['10.0.0.3', '10.0.0.1', '10.0.0.2'], tgt_type: 'list' }]);
    expect(results.map((r) => r.stdout)).toEqual(['up on 10.0.0.3', 'up on 10.0.0.1', 'up on 10.0.0.2']);
  });

  it('starts calls with different args together as async jobs in one POST and gathers them, one result per call', async () => {
    const { api, salt } = await setup();
    const jids = ['20261125000000000001', '20261125000000000002'];
    api.root = (chunks) => ({
      body: { return: chunks.map((c, i) => ({ jid: jids[i], minions: (c as { tgt: string[] }).tgt })) },
    });
    const byJid: Record<string, Record<string, unknown>> = {
      [jids[0]!]: { h1: { return: ok('a on h1'), retcode: 0, success: true }, h2: { return: ok('a on h2'), retcode: 0, success: true } },
      [jids[1]!]: { h1: { return: { pid: 2, retcode: 3, stdout: '', stderr: 'no' }, retcode: 3, success: false } },
    };
    api.jobs = (jid) => ({ body: { info: [{ jid, Minions: Object.keys(byJid[jid]!), Result: byJid[jid] }], return: [{}] } });
    const progress: number[] = [];
    const results = await runBatched(salt, [run('h1', 'a'), run('h1', 'b'), run('h2', 'a')], {
      deadlineMs: Date.now() + 5000,
      onProgress: (done) => progress.push(done),
    });
    expect(api.lowstateCalls).toHaveLength(1);
    expect(api.lowstateCalls[0]!.body).toMatchObject([
      { client: 'local_async', tgt: ['h1', 'h2'], arg: ['a'] },
      { client: 'local_async', tgt: ['h1'], arg: ['b'] },
    ]);
    expect(results.map((r) => [r.host, r.ok, r.error, r.stdout])).toEqual([
      ['h1', true, undefined, 'a on h1'],
      ['h1', false, 'NONZERO_EXIT', ''],
      ['h2', true, undefined, 'a on h2'],
    ]);
    expect(progress[progress.length - 1]).toBe(3);
  });

  it('gives each index its own copy when the same host is asked the same thing twice', async () => {
    const { api, salt } = await setup();
    api.root = () => ({ body: { return: [{ h1: { ret: ok('x'), retcode: 0, jid: '1' } }] } });
    const results = await runBatched(salt, [run('h1', 'x'), run('h1', 'x')], { deadlineMs: Date.now() + 5000 });
    expect(results).toHaveLength(2);
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).not.toBe(results[1]);
  });

  it('makes no request for no calls', async () => {
    const { api, salt } = await setup();
    expect(await runBatched(salt, [], { deadlineMs: Date.now() })).toEqual([]);
    expect(api.received).toHaveLength(0);
  });
});
