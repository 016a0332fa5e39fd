import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { systemTreeProblem } from '../../../lib/files/system-paths.js';
import { decodeCipherA, encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { SaltClient } from '../../../lib/salt/salt-client.js';
import { hostUserAdd, hostUserDelete, hostUserPassword } from '../../../lib/users/host-user-operations.js';
import { sha512Crypt } from '../../../lib/users/sha512-crypt.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { FakeSaltApi } from '../salt/fake-salt-api.js';
import { captureLogger } from '../helpers.js';
import { said } from '../../support/salt-detail.js';

const PASSWORD = 'Clear-Text-Pw!42';

type Chunk = { fun: string; tgt: string[]; arg?: unknown[]; kwarg?: Record<string, unknown> };

/**
 * A fake salt-api whose hosts answer host-user's scripts (user-scripts.ts, whose own behaviour
 * user-scripts.test.ts proves by running them) as hosts where `existing` users/groups exist (uid/gid, home
 * /home/<name> owned by them) and `paths` exist with these owner uids (`path -> [uid, realpath]`).
 */
function fakeHosts(api: FakeSaltApi, existing: Record<string, number> = {}, paths: Record<string, [number, string?]> = {}) {
  const jobs = new Map<string, Record<string, unknown>>();
  const script = (chunk: Chunk): [number, string] => {
    const argv = chunk.arg?.[0] as string[];
    const [min = '', user = '', ...rest] = String(chunk.kwarg?.['stdin'] ?? '').split('\n');
    const minUid = Number(min);
    const system = (name: string, kind: string): [number, string] | undefined =>
      name in existing && existing[name]! < minUid ? [3, `refuse\tsystem\t${kind}\t${existing[name]}\n`] : undefined;
    switch (argv.at(-1)) {
      case 'saltstack-user-add': {
        const [group = '', , , , pwmode = '', , ...lines] = rest;
        const refusal = system(user, 'user') ?? (group ? system(group, 'group') : undefined);
        if (refusal) return refusal;
        for (const line of lines) {
          const [field = '', path = ''] = line.split('\t');
          if ((field !== 'rwDir' && field !== 'rwFile') || !(path in paths)) continue;
          const [uid, real = path] = paths[path]!;
          const problem = real !== path ? systemTreeProblem(real) : undefined;
          if (problem) return [3, `refuse\ttree\t${field}\t${path}\t${real}\tunder\t${/system tree (\S+)/.exec(problem)![1]}\n`];
          if (uid < minUid) return [3, `refuse\towner\t${field}\t${path}\t${uid}\n`];
        }
        const exists = user in existing;
        return [0, `done\t${exists ? 'updated' : 'created'}\t${pwmode === 'given' || !exists ? 1 : 0}\n`];
      }
      case 'saltstack-user-password':
        if (!(user in existing)) return [3, 'refuse\tmissing\n'];
        return system(user, 'user') ?? [0, 'done\n'];
      case 'saltstack-user-delete': {
        if (!(user in existing)) return [0, 'absent\n'];
        const root = rest[0]!.replace(/\/$/, '');
        return system(user, 'user') ?? [0, `done\t${root === '/home' ? '1\t' : '0\toutside'}\t/home/${user}\n`];
      }
      default:
        return [127, ''];
    }
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
        case 'cmd.run_all': {
          const [retcode, stdout] = script(chunk);
          return { pid: 1, retcode, stdout, stderr: '' };
        }
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
        if (chunk.client === 'local')
          return Object.fromEntries(Object.entries(byHost).map(([h, v]) => [h, { ret: v, retcode: 0, jid: '20260101000000000001' }]));
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
    const outputs = await runOperation(
      hostUserAdd(deps),
      [
        { guid: 'g1', seed: 'seed1', target: '10.0.0.1', userName: 'app:apps', password: sealed },
        { guid: 'g2', seed: 'seed1', target: '10.0.0.2', userName: 'app:apps', password: encodeCipherA('g2', 'seed1', PASSWORD) },
      ],
      ctx,
    );
    expect(outputs.map((o) => o.errorCode)).toEqual(['0', '0']);
    expect(decodeCipherA('g1', 'seed1', String(outputs[0]!['password']))).toBe(PASSWORD);
    const wire = JSON.stringify(api.received);
    expect(wire).not.toContain(PASSWORD);
    const jobs = api.lowstateCalls.flatMap((c) => c.body as Chunk[]);
    // the same password on two hosts: one hash, one job on both hosts, the whole add in that one job
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.tgt).toEqual(['10.0.0.1', '10.0.0.2']);
    const stdin = String(jobs[0]!.kwarg!['stdin']).split('\n');
    expect(stdin.slice(0, 7)).toEqual(['1000', 'app', 'apps', '', '', '', 'given']);
    const hash = stdin[7]!;
    expect(hash).toMatch(/^\$6\$/);
    const salt = hash.split('$')[2]!;
    expect(hash).toBe(sha512Crypt(PASSWORD, salt));
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain(hash);
  });

  it('refuses system accounts and a generated password that could not be returned encrypted', async () => {
    const { deps, ctx, api } = await setup({ root: 0, daemon: 1, wheel: 10 });
    const outputs = await runOperation(
      hostUserAdd(deps),
      [
        { guid: 'g1', target: '10.0.0.1', userName: 'root', password: 'x1234567' },
        { guid: 'g2', target: '10.0.0.1', userName: 'newbie', userGroup: 'wheel', password: 'x1234567' },
        { guid: 'g3', target: '10.0.0.1', userName: 'newbie' },
        { guid: 'g4', target: '10.0.0.1', userName: 'ok', userId: '0', password: 'x1234567' },
      ],
      ctx,
    );
    expect(outputs.map((o) => o.errorMessage)).toEqual([
      'user root on 10.0.0.1 is a system account (uid 0 < 1000); host-user does not change it',
      'group wheel on 10.0.0.1 is a system account (gid 10 < 1000); host-user does not change it',
      'Parameter seed can not empty.',
      'Parameter userId validation failed: 0 is below 1000 (reserved for system accounts)',
    ]);
    // the request's own problems stop before salt: two jobs, for the two items the host has to judge
    expect(api.lowstateCalls.flatMap((c) => c.body as Chunk[])).toHaveLength(2);
  });

  it("returns the caller's own plain password when there is no seed (upstream), and reports a missing user on password change", async () => {
    const { deps, ctx } = await setup({ app: 1001 });
    const [added] = await runOperation(hostUserAdd(deps), [{ guid: 'g', target: '10.0.0.1', userName: 'app', password: 'Apps@2018!' }], ctx);
    expect(added).toMatchObject({ errorCode: '0', password: 'Apps@2018!' });
    expect(said(added)).toBe('user app updated on 10.0.0.1');
    const outputs = await runOperation(
      hostUserPassword(deps),
      [
        { guid: 'g', target: '10.0.0.1', userName: 'app', password: 'N3w-pass' },
        { guid: 'g', target: '10.0.0.1', userName: 'ghost', password: 'N3w-pass' },
        { guid: 'g', target: '10.0.0.1', userName: 'app' },
      ],
      ctx,
    );
    expect(outputs.map((o) => [o.errorCode, o.errorMessage])).toEqual([
      ['0', ''],
      ['1', 'user ghost not exist on 10.0.0.1'],
      ['1', 'Parameter password can not empty.'],
    ]);
  });

  it('deletes an existing user and reports an absent one as nothing to do', async () => {
    const { deps, ctx, api } = await setup({ app: 1001 });
    const outputs = await runOperation(
      hostUserDelete(deps),
      [
        { guid: 'a', target: '10.0.0.1', userName: 'app:apps' },
        { guid: 'b', target: '10.0.0.1', userName: 'gone' },
      ],
      ctx,
    );
    expect(outputs.map(said)).toEqual(['user app deleted on 10.0.0.1', 'user gone does not exist on 10.0.0.1, nothing to delete']);
    // one job per item, the lookup and userdel in it
    const jobs = api.lowstateCalls.flatMap((c) => c.body as Chunk[]);
    expect(jobs.map((c) => String(c.kwarg!['stdin']))).toEqual(['1000\napp\n/home\n', '1000\ngone\n/home\n']);
    expect(jobs[0]!.kwarg).toMatchObject({ python_shell: false });
  });

  it('refuses rw paths owned by system accounts or leading into system trees, naming field, path and host, in one job per item', async () => {
    const { deps, ctx, api } = await setup(
      { app: 1001 },
      { '/data/app/etc': [0], '/data/app/ok': [1001], '/data/app/link/x': [1001, '/etc/x'], '/data/app/new': [1001, '/data/app/new'] },
    );
    const outputs = await runOperation(
      hostUserAdd(deps),
      [
        { guid: 'g', target: '10.0.0.1', userName: 'app', rwDir: '/data/app/ok,/data/app/etc', password: 'x1234567' },
        { guid: 'g', target: '10.0.0.1', userName: 'app', rwFile: '/data/app/link/x', password: 'x1234567' },
        { guid: 'g', target: '10.0.0.1', userName: 'app', rwFile: '/etc/shadow', password: 'x1234567' },
        { guid: 'g', target: '10.0.0.1', userName: 'app', rwDir: '/root/.ssh', password: 'x1234567' },
        { guid: 'g', target: '10.0.0.1', userName: 'app', homeDir: '/usr/lib', password: 'x1234567' },
        { guid: 'g', target: '10.0.0.1', userName: 'app', rwDir: '/data/app/ok', rwFile: '/data/app/fresh.pid', password: 'x1234567' },
      ],
      ctx,
    );
    expect(outputs.map((o) => o.errorMessage)).toEqual([
      'Parameter rwDir validation failed: /data/app/etc exists and is owned by a system account (uid 0 < 1000) on 10.0.0.1',
      'Parameter rwFile validation failed: /data/app/link/x goes through a symbolic link: /etc/x is under the system tree /etc on 10.0.0.1',
      'Parameter rwFile validation failed: /etc/shadow is under the system tree /etc on 10.0.0.1',
      'Parameter rwDir validation failed: /root/.ssh is under the system tree /root on 10.0.0.1',
      'Parameter homeDir validation failed: /usr/lib is under the system tree /usr on 10.0.0.1',
      '',
    ]);
    // one submit of one job per item the host judges: no second round
    expect(api.lowstateCalls).toHaveLength(1);
    const jobs = (api.lowstateCalls[0]!.body as Chunk[]).map((c) =>
      String(c.kwarg!['stdin'])
        .split('\n')
        .filter((l) => l.startsWith('rw')),
    );
    expect(jobs).toEqual([
      ['rwDir\t/data/app/ok', 'rwDir\t/data/app/etc'],
      ['rwFile\t/data/app/link/x'],
      ['rwDir\t/data/app/ok', 'rwFile\t/data/app/fresh.pid'],
    ]);
  });

  it("deletes the home only when it is the user's own below HOST_USER_HOME_ROOT", async () => {
    const { deps, ctx, api } = await setup({ app: 1001, other: 1002 });
    const outside = { ...deps, config: { ...deps.config, hosts: { ...deps.config.hosts, userHomeRoot: '/srv/homes' } } };
    const [purged] = await runOperation(hostUserDelete(deps), [{ guid: 'a', target: '10.0.0.1', userName: 'app' }], ctx);
    const [kept] = await runOperation(hostUserDelete(outside), [{ guid: 'b', target: '10.0.0.1', userName: 'other' }], ctx);
    expect(said(purged)).toBe('user app deleted on 10.0.0.1');
    // upstream's detail: salt's response JSON of the job
    expect(JSON.parse(String(purged!['detail']))).toEqual({
      return: [{ '10.0.0.1': { pid: 1, retcode: 0, stderr: '', stdout: 'user app deleted on 10.0.0.1' } }],
    });
    expect(said(kept)).toBe('user other deleted on 10.0.0.1; home /home/other kept: it is not below the home root /srv/homes');
    expect(api.lowstateCalls.flatMap((c) => c.body as Chunk[]).map((c) => String(c.kwarg!['stdin']))).toEqual([
      '1000\napp\n/home\n',
      '1000\nother\n/srv/homes\n',
    ]);
  });
});
