import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { decodeCipherA, encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { SaltClient } from '../../../lib/salt/salt-client.js';
import { hostUserAdd, hostUserDelete, hostUserPassword } from '../../../lib/users/host-user-operations.js';
import { sha512Crypt } from '../../../lib/users/sha512-crypt.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { FakeSaltApi } from '../salt/fake-salt-api.js';
import { captureLogger } from '../helpers.js';

const PASSWORD = 'Clear-Text-Pw!42';

type Chunk = { fun: string; tgt: string[]; arg?: unknown[]; kwarg?: Record<string, unknown> };

/**
 * A fake salt-api where `existing` users/groups exist (uid/gid, home /home/<name> owned by them), `paths`
 * exist with these owner uids (`path -> [uid, realpath]`), and every state succeeds.
 */
function fakeHosts(api: FakeSaltApi, existing: Record<string, number> = {}, paths: Record<string, [number, string?]> = {}) {
  const jobs = new Map<string, Record<string, unknown>>();
  const script = (chunk: Chunk) => {
    const argv = chunk.arg?.[0] as string[];
    const stdin = String(chunk.kwarg?.['stdin'] ?? '').split('\n').filter(Boolean);
    if (argv.at(-1) === 'saltstack-account-facts') {
      // user, group, home root (lines kept even when empty), then paths
      const [user = '', group = '', root = '', ...rest] = String(chunk.kwarg?.['stdin'] ?? '').split('\n');
      const lines = [user in existing ? `user\t${existing[user]}\t/home/${user}` : 'user\t-'];
      if (group) lines.push(group in existing ? `group\t${existing[group]}` : 'group\t-');
      if (root) lines.push(user in existing ? `home\tdir\t${existing[user]}\t/home/${user}\t${root}\t/home/${user}` : 'home\tnone');
      for (const p of rest.filter(Boolean)) lines.push(p in paths ? `path\t${paths[p]![0]}\t${paths[p]![1] ?? p}` : `path\t-\t${p}`);
      return lines.join('\n') + '\n';
    }
    if (argv.at(-1) === 'saltstack-path-owners') {
      return stdin.map((p) => (p in paths ? `${paths[p]![0]}\t${paths[p]![1] ?? p}\n` : `-\t${p}\n`)).join('');
    }
    if (argv.at(-1) === 'saltstack-home-check') {
      const [user = '', root = ''] = stdin;
      return user in existing ? `dir\t${existing[user]}\t/home/${user}\t${root}\t/home/${user}\n` : 'none\n';
    }
    return '';
  };
  const answer = (chunk: Chunk) => {
    const name = String(chunk.arg?.[0] ?? '');
    const value = (() => {
      switch (chunk.fun) {
        case 'user.info':
          return name in existing ? { name, uid: existing[name], home: `/home/${name}` } : {};
        case 'group.info':
          return name in existing ? { name, gid: existing[name] } : {};
        case 'state.high':
          return { 'user_|-u_|-u_|-present': { __id__: 'u', __run_num__: 0, result: true, comment: 'ok', changes: {} } };
        case 'cmd.run_all':
          return { pid: 1, retcode: 0, stdout: script(chunk), stderr: '' };
        default:
          return `'${chunk.fun}' is not available.`;
      }
    })();
    return Object.fromEntries(chunk.tgt.map((h) => [h, value]));
  };
  // Sync calls answer with full_return; async ones get a jid whose result GET /jobs/<jid> gives.
  api.root = (chunks) => ({
    body: {
      return: (chunks as Array<Chunk & { client: string }>).map((chunk) => {
        const byHost = answer(chunk);
        if (chunk.client === 'local') return Object.fromEntries(Object.entries(byHost).map(([h, v]) => [h, { ret: v, retcode: 0, jid: '20260101000000000001' }]));
        const jid = String(20260101000000000000n + BigInt(jobs.size + 2));
        jobs.set(jid, byHost);
        return { jid, minions: chunk.tgt };
      }),
    },
  });
  api.jobs = (jid) => {
    const byHost = jobs.get(jid) ?? {};
    const Result = Object.fromEntries(Object.entries(byHost).map(([h, v]) => [h, { return: v, retcode: 0, success: true }]));
    return { body: { info: [{ jid, Minions: Object.keys(byHost), Result }], return: [byHost] } };
  };
}

describe('host-user operations against a local fake salt-api', () => {
  let api: FakeSaltApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  const setup = async (existing: Record<string, number> = {}, paths: Record<string, [number, string?]> = {}) => {
    api = await new FakeSaltApi().start();
    fakeHosts(api, existing, paths);
    const salt = new SaltClient({ url: api.url, eauth: 'pam', username: api.user, password: api.password, timeoutMs: 5000, loginTimeoutMs: 5000 });
    const config = loadConfig({ STAGE: 'local', AUTH_MODE: 'off' });
    const log = captureLogger();
    const ctx = { logger: log.logger, signal: new AbortController().signal, concurrency: 5 };
    return { deps: { salt: () => salt, config }, ctx, lines: log.lines, api };
  };

  it('sends the password to hosts only as a SHA-512 crypt hash, returns it {cipher_a}-encrypted, never logs it', async () => {
    const { deps, ctx, lines, api } = await setup();
    const sealed = encodeCipherA('g1', 'seed1', PASSWORD);
    const outputs = await runOperation(hostUserAdd(deps), [
      { guid: 'g1', seed: 'seed1', target: '10.0.0.1', userName: 'app:apps', password: sealed },
      { guid: 'g2', seed: 'seed1', target: '10.0.0.2', userName: 'app:apps', password: encodeCipherA('g2', 'seed1', PASSWORD) },
    ], ctx);
    expect(outputs.map((o) => o.errorCode)).toEqual(['0', '0']);
    expect(decodeCipherA('g1', 'seed1', String(outputs[0]!['password']))).toBe(PASSWORD);
    const wire = JSON.stringify(api.received);
    expect(wire).not.toContain(PASSWORD);
    const states = api.lowstateCalls.flatMap((c) => c.body as Chunk[]).filter((c) => c.fun === 'state.high');
    // the same password on two hosts: one hash, one job on both hosts
    expect(states).toHaveLength(1);
    expect(states[0]!.tgt).toEqual(['10.0.0.1', '10.0.0.2']);
    const cmd = (states[0]!.arg![0] as Record<string, { cmd: unknown[] }>)['password app']!.cmd;
    const stdin = (cmd.find((a) => typeof a === 'object' && a !== null && 'stdin' in a) as { stdin: string }).stdin;
    expect(stdin).toMatch(/^app:\$6\$/);
    const hash = stdin.slice('app:'.length).trimEnd();
    const salt = hash.split('$')[2]!;
    expect(hash).toBe(sha512Crypt(PASSWORD, salt));
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain(hash);
  });

  it('refuses system accounts and a generated password that could not be returned encrypted, before any state runs', async () => {
    const { deps, ctx, api } = await setup({ root: 0, daemon: 1, wheel: 10 });
    const outputs = await runOperation(hostUserAdd(deps), [
      { guid: 'g1', target: '10.0.0.1', userName: 'root', password: 'x1234567' },
      { guid: 'g2', target: '10.0.0.1', userName: 'newbie', userGroup: 'wheel', password: 'x1234567' },
      { guid: 'g3', target: '10.0.0.1', userName: 'newbie' },
      { guid: 'g4', target: '10.0.0.1', userName: 'ok', userId: '0', password: 'x1234567' },
    ], ctx);
    expect(outputs.map((o) => o.errorMessage)).toEqual([
      'user root on 10.0.0.1 is a system account (uid 0 < 1000); host-user does not change it',
      'group wheel on 10.0.0.1 is a system account (gid 10 < 1000); host-user does not change it',
      'Parameter seed can not empty.',
      'Parameter userId validation failed: 0 is below 1000 (reserved for system accounts)',
    ]);
    expect(api.lowstateCalls.flatMap((c) => (c.body as Chunk[]).map((x) => x.fun))).not.toContain('state.high');
  });

  it('returns the caller\'s own plain password when there is no seed (upstream), and reports a missing user on password change', async () => {
    const { deps, ctx } = await setup({ app: 1001 });
    const [added] = await runOperation(hostUserAdd(deps), [{ guid: 'g', target: '10.0.0.1', userName: 'app', password: 'Apps@2018!' }], ctx);
    expect(added).toMatchObject({ errorCode: '0', password: 'Apps@2018!', detail: 'user app updated on 10.0.0.1' });
    const outputs = await runOperation(hostUserPassword(deps), [
      { guid: 'g', target: '10.0.0.1', userName: 'app', password: 'N3w-pass' },
      { guid: 'g', target: '10.0.0.1', userName: 'ghost', password: 'N3w-pass' },
      { guid: 'g', target: '10.0.0.1', userName: 'app' },
    ], ctx);
    expect(outputs.map((o) => [o.errorCode, o.errorMessage])).toEqual([
      ['0', ''],
      ['1', 'user ghost not exist on 10.0.0.1'],
      ['1', 'Parameter password can not empty.'],
    ]);
  });

  it('deletes an existing user and reports an absent one as nothing to do', async () => {
    const { deps, ctx, api } = await setup({ app: 1001 });
    const outputs = await runOperation(hostUserDelete(deps), [
      { guid: 'a', target: '10.0.0.1', userName: 'app:apps' },
      { guid: 'b', target: '10.0.0.1', userName: 'gone' },
    ], ctx);
    expect(outputs.map((o) => o['detail'])).toEqual(['user app deleted on 10.0.0.1', 'user gone does not exist on 10.0.0.1, nothing to delete']);
    const userdels = api.lowstateCalls.flatMap((c) => c.body as Chunk[]).filter((c) => JSON.stringify(c.arg).includes('userdel'));
    expect(userdels.map((c) => c.arg)).toEqual([[['userdel', '-f', '-r', '--', 'app']]]);
    expect(userdels[0]!.kwarg).toMatchObject({ python_shell: false });
  });

  it('refuses rw paths owned by system accounts or leading into system trees, in the same round of jobs as the lookups', async () => {
    const { deps, ctx, api } = await setup({ app: 1001 }, { '/data/app/etc': [0], '/data/app/ok': [1001], '/data/app/link/x': [1001, '/etc/x'], '/data/app/new': [1001, '/data/app/new'] });
    const outputs = await runOperation(hostUserAdd(deps), [
      { guid: 'g', target: '10.0.0.1', userName: 'app', rwDir: '/data/app/ok,/data/app/etc', password: 'x1234567' },
      { guid: 'g', target: '10.0.0.1', userName: 'app', rwFile: '/data/app/link/x', password: 'x1234567' },
      { guid: 'g', target: '10.0.0.1', userName: 'app', rwFile: '/etc/shadow', password: 'x1234567' },
      { guid: 'g', target: '10.0.0.1', userName: 'app', rwDir: '/root/.ssh', password: 'x1234567' },
      { guid: 'g', target: '10.0.0.1', userName: 'app', homeDir: '/usr/lib', password: 'x1234567' },
      { guid: 'g', target: '10.0.0.1', userName: 'app', rwDir: '/data/app/ok', rwFile: '/data/app/fresh.pid', password: 'x1234567' },
    ], ctx);
    expect(outputs.map((o) => o.errorMessage)).toEqual([
      'Parameter rwDir validation failed: /data/app/etc exists and is owned by a system account (uid 0 < 1000) on 10.0.0.1',
      'Parameter rwFile validation failed: /data/app/link/x goes through a symbolic link: /etc/x is under the system tree /etc on 10.0.0.1',
      'Parameter rwFile validation failed: /etc/shadow is under the system tree /etc on 10.0.0.1',
      'Parameter rwDir validation failed: /root/.ssh is under the system tree /root on 10.0.0.1',
      'Parameter homeDir validation failed: /usr/lib is under the system tree /usr on 10.0.0.1',
      '',
    ]);
    const submits = api.lowstateCalls.map((c) => (c.body as Chunk[]).map((x) => x.fun));
    // one submit for all lookups (one facts job per item: accounts and paths), one for the single state job that is left
    expect(submits[0]!.sort()).toEqual(['cmd.run_all', 'cmd.run_all', 'cmd.run_all']);
    const states = api.lowstateCalls.flatMap((c) => c.body as Chunk[]).filter((c) => c.fun === 'state.high');
    expect(states).toHaveLength(1);
    const high = states[0]!.arg![0] as Record<string, Record<string, unknown[]>>;
    expect(Object.keys(high)[0]).toBe('write guard');
    expect(JSON.stringify(high['rwDir /data/app/ok'])).toContain('{"follow_symlinks":false}');
    expect(JSON.stringify(high['rwFile /data/app/fresh.pid'])).toContain('{"require":[{"cmd":"write guard"},{"user":"user app"}]}');
  });

  it('deletes the home only when it is the user\'s own below HOST_USER_HOME_ROOT', async () => {
    const { deps, ctx, api } = await setup({ app: 1001, other: 1002 });
    const outside = { ...deps, config: { ...deps.config, hosts: { ...deps.config.hosts, userHomeRoot: '/srv/homes' } } };
    const [purged] = await runOperation(hostUserDelete(deps), [{ guid: 'a', target: '10.0.0.1', userName: 'app' }], ctx);
    const [kept] = await runOperation(hostUserDelete(outside), [{ guid: 'b', target: '10.0.0.1', userName: 'other' }], ctx);
    expect(purged!['detail']).toBe('user app deleted on 10.0.0.1');
    expect(kept!['detail']).toBe('user other deleted on 10.0.0.1; home /home/other kept: it is not below the home root /srv/homes');
    const userdels = api.lowstateCalls.flatMap((c) => c.body as Chunk[]).filter((c) => JSON.stringify(c.arg).includes('userdel')).map((c) => JSON.stringify(c.arg));
    expect(userdels.sort()).toEqual(['[["userdel","-f","--","other"]]', '[["userdel","-f","-r","--","app"]]']);
  });
});
