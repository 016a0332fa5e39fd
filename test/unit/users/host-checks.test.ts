import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { accountFactsCall, decideHomePurge, ownershipProblem, parseAccountFacts, parsePathOwners } from '../../../lib/users/host-checks.js';

describe('path owner check (host-user/add)', () => {
  it('is a constant command line with the paths on stdin', () => {
    const call = accountFactsCall({ user: 'app', paths: ['/data/a b', '/x;$(id)'] });
    expect(call.fun).toBe('cmd.run_all');
    expect(JSON.stringify(call.arg)).not.toContain('/x;$(id)');
    expect(call.kwarg).toMatchObject({ stdin: 'app\n\n\n/data/a b\n/x;$(id)\n', python_shell: false });
  });

  it('reads one line per path: owner uid (- when absent, ? when unreadable) and real path', () => {
    expect(parsePathOwners('0\t/data/x\n-\t/data/new\n?\t/data/y\n', ['/data/x', '/data/new', '/data/y'])).toEqual([
      { path: '/data/x', uid: 0, real: '/data/x' },
      { path: '/data/new', uid: undefined, real: '/data/new' },
      { path: '/data/y', uid: NaN, real: '/data/y' },
    ]);
    expect(() => parsePathOwners('', ['/data/x'])).toThrow('path owner check gave 0 lines for 1 paths');
  });

  it.each([
    [{ path: '/data/new', uid: undefined, real: '/data/new' }, undefined],
    [{ path: '/data/app', uid: 1001, real: '/data/app' }, undefined],
    [{ path: '/data/app', uid: 5000, real: '/data/app' }, undefined],
    [{ path: '/data/root-owned', uid: 0, real: '/data/root-owned' }, '/data/root-owned exists and is owned by a system account (uid 0 < 1000)'],
    [{ path: '/data/daemon', uid: 999, real: '/data/daemon' }, '/data/daemon exists and is owned by a system account (uid 999 < 1000)'],
    [{ path: '/data/l/x', uid: undefined, real: '/etc/x' }, '/data/l/x goes through a symbolic link: /etc/x is under the system tree /etc'],
    [{ path: '/data/l', uid: 0, real: '/root' }, '/data/l goes through a symbolic link: /root is a system directory'],
    [{ path: '/data/l', uid: 1001, real: '/srv/other' }, undefined],
    [{ path: '/data/y', uid: NaN, real: '/data/y' }, '/data/y exists but its owner could not be read'],
    [{ path: '/data/loop', uid: undefined, real: '' }, '/data/loop could not be resolved (realpath failed)'],
  ])('judges %j: %s', (facts, problem) => {
    expect(ownershipProblem(facts, 1000)).toBe(problem);
  });
});

describe('home check (host-user/delete)', () => {
  it('sends the user and the home root on stdin, never in the command line', () => {
    const call = accountFactsCall({ user: 'app', homeRoot: '/home' });
    expect(call.kwarg).toMatchObject({ stdin: 'app\n\n/home\n', python_shell: false });
    expect(JSON.stringify(call.arg)).not.toContain('app');
  });

  const account = { user: 'app', uid: 1001, home: '/home/app' };
  it.each([
    ['dir\t1001\t/home/app\t/home\t/home/app\n', '/home', { purge: true }],
    ['dir\t1001\t/data/home/app\t/data/home\t/home/app\n', '/home', { purge: true }],
    ['dir\t1001\t/home/team/app\t/home\t/home/team/app\n', '/home', { purge: true }],
    ['none\n', '/home', { purge: false }],
    ['missing\n', '/home', { purge: false }],
    ['dir\t1001\t/home\t/home\t/home\n', '/home', { purge: false, kept: { home: '/home', why: 'it is not below the home root /home' } }],
    ['dir\t1001\t/usr/lib\t/home\t/usr/lib\n', '/home', { purge: false, kept: { home: '/usr/lib', why: 'it is not below the home root /home' } }],
    ['dir\t1001\t/homestead/app\t/home\t/homestead/app\n', '/home', { purge: false, kept: { home: '/homestead/app', why: 'it is not below the home root /home' } }],
    ['dir\t1001\t/etc\t/home\t/home/app\n', '/home', { purge: false, kept: { home: '/home/app', why: 'it is not below the home root /home' } }],
    ['dir\t0\t/home/app\t/home\t/home/app\n', '/home', { purge: false, kept: { home: '/home/app', why: 'it is owned by uid 0, not by app' } }],
    ['dir\t1002\t/home/app\t/home\t/home/app\n', '/home', { purge: false, kept: { home: '/home/app', why: 'it is owned by uid 1002, not by app' } }],
    ['link\t1001\t/home/other\t/home\t/home/app\n', '/home', { purge: false, kept: { home: '/home/app', why: 'it is a symbolic link' } }],
    ['other\t1001\t/home/app\t/home\t/home/app\n', '/home', { purge: false, kept: { home: '/home/app', why: 'it is not a directory' } }],
    ['', '/home', { purge: false, kept: { home: '/home/app', why: 'it could not be checked' } }],
    ['dir\t1001\t\t/home\t/home/app\n', '/home', { purge: false, kept: { home: '/home/app', why: 'it is not below the home root /home' } }],
  ])('decides %j under %s', (stdout, root, decision) => {
    expect(decideHomePurge(stdout, account, root)).toEqual(decision);
  });
});

describe('accountFactsCall / parseAccountFacts (the script run here with /bin/sh, as salt runs it)', () => {
  const runFacts = (facts: Parameters<typeof accountFactsCall>[0]) => {
    const call = accountFactsCall(facts);
    const [argv] = call.arg as [string[]];
    return execFileSync(argv[0]!, argv.slice(1), { input: call.kwarg.stdin, encoding: 'utf8' });
  };

  it('reads user, group, home facts and path owners in one run', () => {
    const out = parseAccountFacts(runFacts({ user: 'root', group: 'root', homeRoot: '/home', paths: ['/etc', '/nonexistent-dir/x'] }));
    expect(out.user).toEqual({ id: 0, home: '/root' });
    expect(out.group).toEqual({ id: 0 });
    expect(out.home.split('\t').slice(0, 3)).toEqual(['dir', '0', '/root']);
    expect(parsePathOwners(out.owners, ['/etc', '/nonexistent-dir/x'])).toEqual([
      { path: '/etc', uid: 0, real: '/etc' },
      { path: '/nonexistent-dir/x', uid: undefined, real: '/nonexistent-dir/x' },
    ]);
  });

  it('says absent for an unknown user and group, without a home line unless asked', () => {
    const out = parseAccountFacts(runFacts({ user: 'no-such-user-x1', group: 'no-such-group-x1' }));
    expect(out).toEqual({ user: undefined, group: undefined, home: 'none', owners: '' });
  });

  it('takes names and paths from stdin only: shell characters are data', () => {
    const out = parseAccountFacts(runFacts({ user: '$(touch /tmp/never)', paths: ['/tmp/a b;$(id)'] }));
    expect(out.user).toBeUndefined();
    expect(parsePathOwners(out.owners, ['/tmp/a b;$(id)'])[0]!.real).toBe('/tmp/a b;$(id)');
  });

  it('refuses an answer without a user line', () => {
    expect(() => parseAccountFacts('group\t5\n')).toThrow('no user line');
  });
});
