/**
 * host-user's host scripts (user-scripts.ts) run here for real, with the real bash, realpath and stat,
 * on directories this test made: only the account tools (getent, useradd, usermod, groupadd, groupdel,
 * userdel, chpasswd, chown, id) are replaced by stubs on PATH that read a fake passwd/group and record
 * what they were asked to do. No account of this machine is read or changed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DIRS, systemTreeProblem } from '../../../lib/files/system-paths.js';
import {
  HOME_DECISION_FUNCTION,
  SYS_PROBLEM_FUNCTION,
  addUserCall,
  deleteUserCall,
  readAnswer,
  setPasswordCall,
  systemTableLines,
  type UserPlan,
} from '../../../lib/users/user-scripts.js';

let dir: string;
let bin: string;
let db: string;

const TOOLS = ['useradd', 'usermod', 'groupadd', 'groupdel', 'userdel', 'chpasswd', 'chown'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'user-scripts-'));
  bin = join(dir, 'bin');
  db = join(dir, 'db');
  mkdirSync(bin);
  mkdirSync(db);
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('getent', `grep -m1 "^$2:" "${db}/$1" || exit 2`);
  stub('id', `grep "^$3:" "${db}/groups-of" | cut -d: -f2`);
  for (const tool of TOOLS) {
    // argv joined with |, then stdin when the tool reads it; FAIL_<tool> makes it fail like the real one.
    const reads = tool === 'chpasswd' ? 'in=$(cat); ' : 'in=; ';
    stub(
      tool,
      `${reads}(IFS='|'; printf '%s|%s%s\\n' "${tool}" "$*" "\${in:+ <<< $in}") >> "${db}/log"; v=FAIL_${tool}; [ -z "\${!v}" ] || { echo "${tool}: \${!v}" >&2; exit 4; }`,
    );
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one of the calls as salt's cmd.run_all would (argv, stdin), with the stubs first on PATH. */
function runCall(call: { arg: unknown[]; kwarg: { stdin: string } }, env: Record<string, string> = {}) {
  const [argv] = call.arg as [string[]];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input: call.kwarg.stdin,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, ...env },
  });
  const log = existsSync(join(db, 'log')) ? readFileSync(join(db, 'log'), 'utf8').split('\n').filter(Boolean) : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, log, answer: readAnswer(r.stdout) };
}

/** A fresh fake account database: `passwd` lines `name:uid:home`, `group` lines `name:gid`, memberships `user:groups`. */
function accounts(passwd: string[] = [], group: string[] = [], memberships: string[] = []) {
  // A home of the test's own unless one is given: the script makes a missing home, and never here outside dir.
  const homeOf = (n: string) => {
    const home = join(dir, 'h', n);
    mkdirSync(home, { recursive: true });
    return home;
  };
  writeFileSync(
    join(db, 'passwd'),
    passwd
      .map((l) => {
        const [n = '', id, home] = l.split(':');
        return `${n}:x:${id}:${id}::${home ?? homeOf(n)}:/bin/sh\n`;
      })
      .join(''),
  );
  writeFileSync(
    join(db, 'group'),
    group
      .map((l) => {
        const [n, id] = l.split(':');
        return `${n}:x:${id}:\n`;
      })
      .join(''),
  );
  writeFileSync(join(db, 'groups-of'), memberships.map((l) => l + '\n').join(''));
  rmSync(join(db, 'log'), { force: true });
}

const plan = (over: Partial<UserPlan> = {}): UserPlan => ({
  user: 'app',
  group: undefined,
  uid: undefined,
  gid: undefined,
  home: undefined,
  passwordHash: '$6$salt$hash',
  passwordGiven: true,
  rwPaths: [],
  ...over,
});

describe('the scripts are constant command lines: every value is on stdin', () => {
  it('sends the same argv whatever the request, values only on stdin', () => {
    const a = addUserCall(plan({ user: 'a$(x)', home: '/data/a' }), 1000);
    const b = addUserCall(plan({ user: 'other' }), 1000);
    expect(a.arg).toEqual(b.arg);
    expect(JSON.stringify(a.arg)).not.toContain('a$(x)');
    expect(a.kwarg).toMatchObject({ python_shell: false });
    expect(a.kwarg.stdin).toContain('a$(x)\n');
    expect(setPasswordCall('u', '$6$s$h', 1000).arg).toEqual(setPasswordCall('v', '$6$t$i', 500).arg);
    expect(JSON.stringify(setPasswordCall('u', '$6$s$h', 1000).arg)).not.toContain('$6$');
    expect(deleteUserCall('u', '/home', 1000).arg).toEqual(deleteUserCall('v', '/srv', 1).arg);
  });
});

describe('sys_problem judges a resolved path exactly as systemTreeProblem does', () => {
  const paths = [
    '/',
    '/etc',
    '/etc/x',
    '/etcetera',
    '/etc.d/x',
    '/usr/lib/x',
    '/opt',
    '/opt/app',
    '/var',
    '/var/lib',
    '/var/lib/app',
    '/var/libx',
    '/var/log',
    '/var/log/app',
    '/home',
    '/home/app',
    '/srv/salt/top.sls',
    '/srv/app',
    '/tmp',
    '/tmp/a b',
    '/data/app',
    '/root',
    '/rootx',
    '/lost+found/x',
    '/var/cache/salt/minion',
    '/var/cache/app',
    '/run/x',
    '/ETC/x',
    ...SYSTEM_DIRS.map((d) => d.path),
    ...SYSTEM_DIRS.map((d) => `${d.path}/child`),
  ];
  it.each(paths)('%s', (path) => {
    const script = `${SYS_PROBLEM_FUNCTION}
sys_kind=() sys_path=()
while IFS=$'\\t' read -r kind a b; do [ "$kind" = sys ] && { sys_kind+=("$a"); sys_path+=("$b"); }; done
if sys_problem "$1"; then printf '%s\\n' "$problem"; else echo none; fi`;
    const r = spawnSync('/bin/bash', ['-c', script, 'test', path.replace(/\/+/g, '/')], { input: systemTableLines().join('\n') + '\n', encoding: 'utf8' });
    const [kind, entry] = r.stdout.trim().split('\t');
    const shell =
      kind === 'none' ? undefined : kind === 'dir' ? `${entry} is a system directory` : `${path.replace(/\/+/g, '/')} is under the system tree ${entry}`;
    expect(shell).toBe(systemTreeProblem(path));
  });
});

describe('home_decision (host-user/delete)', () => {
  const decide = (home: string, uid: number, root: string) => {
    const r = spawnSync(
      '/bin/bash',
      ['-c', `${HOME_DECISION_FUNCTION}\nhome_decision "$1" "$2" "$3"; printf '%s\\n' "$why"`, 'test', home, String(uid), root],
      { encoding: 'utf8' },
    );
    return r.stdout.replace(/\n$/, '');
  };
  it('purges only a real directory of the user strictly below the root, both resolved', () => {
    const root = join(dir, 'homes');
    mkdirSync(join(root, 'own'), { recursive: true });
    mkdirSync(join(dir, 'elsewhere'), { recursive: true });
    writeFileSync(join(root, 'file'), '');
    symlinkSync(join(dir, 'elsewhere'), join(root, 'link'));
    symlinkSync(root, join(dir, 'homes-link'));
    const me = statSync(join(root, 'own')).uid;
    expect(decide(join(root, 'own'), me, root)).toBe('');
    expect(decide(join(root, 'own'), me, `${root}/`)).toBe('');
    expect(decide(join(dir, 'homes-link', 'own'), me, root)).toBe('');
    expect(decide(join(root, 'own'), me, join(dir, 'homes-link'))).toBe('');
    expect(decide(join(root, 'own'), me + 1, root)).toBe(`owner\t${me}`);
    expect(decide(root, me, root)).toBe('outside');
    expect(decide(join(dir, 'elsewhere'), me, root)).toBe('outside');
    expect(decide(join(root, 'own'), me, '/')).toBe('');
    expect(decide(join(root, 'link'), me, root)).toBe('link');
    expect(decide(join(root, 'file'), me, root)).toBe('notdir');
    expect(decide(join(root, 'missing'), me, root)).toBe('missing');
    expect(decide('', me, root)).toBe('none');
  });
});

describe('host-user/add script', () => {
  it('creates group, user, password and rw paths for a new user, in that order, the hash only on stdin', () => {
    accounts();
    const base = join(dir, 'add-new');
    mkdirSync(base);
    const r = runCall(
      addUserCall(
        plan({
          group: 'apps',
          uid: 1500,
          gid: 1600,
          home: `${base}/home`,
          rwPaths: [
            { field: 'rwDir', path: `${base}/rw/logs` },
            { field: 'rwFile', path: `${base}/rw/app.pid` },
          ],
        }),
        1000,
      ),
    );
    expect([r.code, r.answer]).toEqual([0, { kind: 'done', fields: ['created', '1'] }]);
    expect(r.log).toEqual([
      'groupadd|-g|1600|--|apps',
      `useradd|-m|-u|1500|-d|${base}/home|-g|apps|--|app`,
      'chpasswd|-e <<< app:$6$salt$hash',
      `chown|-h|--|app:apps|${base}/rw`,
      `chown|-h|--|app:apps|${base}/rw/logs`,
      `chown|-h|--|app:apps|${base}/rw/logs`,
      `chown|-h|--|app:apps|${base}/rw/app.pid`,
    ]);
    expect(statSync(`${base}/rw/logs`).mode & 0o7777).toBe(0o755);
    expect(statSync(`${base}/rw/app.pid`).mode & 0o7777).toBe(0o644);
  });

  it('updates an existing user: the group becomes supplementary, a generated password is not set, other changes only when they differ', () => {
    accounts(['app:1001'], ['apps:1601'], ['app:app']);
    const r = runCall(addUserCall(plan({ group: 'apps', uid: 1001, gid: 1700, passwordGiven: false }), 1000));
    expect([r.code, r.answer]).toEqual([0, { kind: 'done', fields: ['updated', '0'] }]);
    expect(r.log).toEqual(['usermod|-a|-G|apps|--|app']);
    accounts(['app:1001'], ['apps:1601'], ['app:app apps']);
    const again = runCall(addUserCall(plan({ group: 'apps', uid: 1002 }), 1000));
    expect(again.log).toEqual(['usermod|-u|1002|--|app', 'chpasswd|-e <<< app:$6$salt$hash']);
  });

  it('refuses before any change: system user or group, an rw path owned by a system account or led into a system tree', () => {
    const base = join(dir, 'add-refuse');
    mkdirSync(base);
    symlinkSync('/etc', join(base, 'etc-link'));
    const cases: Array<[UserPlan, string[]]> = [
      [plan({ user: 'root' }), ['system', 'user', '0']],
      [plan({ group: 'wheel' }), ['system', 'group', '10']],
      [
        plan({ rwPaths: [{ field: 'rwFile', path: `${base}/etc-link/never-made` }] }),
        ['tree', 'rwFile', `${base}/etc-link/never-made`, '/etc/never-made', 'under', '/etc'],
      ],
      [plan({ rwPaths: [{ field: 'rwDir', path: '/' }] }), ['owner', 'rwDir', '/', '0']],
    ];
    for (const [p, refusal] of cases) {
      accounts(['root:0:/root'], ['wheel:10']);
      const r = runCall(addUserCall(p, 1000));
      expect([r.code, r.answer, r.log]).toEqual([3, { kind: 'refuse', fields: refusal }, []]);
    }
    expect(existsSync('/etc/never-made')).toBe(false);
  });

  it('removes the group it made when the user cannot be created, and names the step', () => {
    accounts();
    const r = runCall(addUserCall(plan({ group: 'apps', uid: 1500 }), 1000), { FAIL_useradd: 'UID 1500 is not unique' });
    expect([r.code, r.answer]).toEqual([4, { kind: 'failed', fields: ['user app'] }]);
    expect(r.stderr).toContain('useradd: UID 1500 is not unique');
    expect(r.log).toEqual(['groupadd|--|apps', 'useradd|-m|-u|1500|-g|apps|--|app', 'groupdel|--|apps']);
  });

  it('keeps shell characters in values as data', () => {
    accounts();
    const canary = join(dir, 'canary');
    const r = runCall(addUserCall(plan({ user: `x$(touch ${canary})\`touch ${canary}\`` }), 1000));
    expect(r.code).toBe(0);
    expect(existsSync(canary)).toBe(false);
    expect(r.log[0]).toBe(`useradd|-m|--|x$(touch ${canary})\`touch ${canary}\``);
  });
});

describe('host-user/password and delete scripts', () => {
  it('sets a password through chpasswd only for an existing non-system user', () => {
    accounts(['app:1001', 'root:0:/root']);
    expect(runCall(setPasswordCall('app', '$6$s$h', 1000))).toMatchObject({ code: 0, answer: { kind: 'done' }, log: ['chpasswd|-e <<< app:$6$s$h'] });
    accounts(['app:1001', 'root:0:/root']);
    expect(runCall(setPasswordCall('root', '$6$s$h', 1000))).toMatchObject({ code: 3, answer: { kind: 'refuse', fields: ['system', 'user', '0'] }, log: [] });
    expect(runCall(setPasswordCall('ghost', '$6$s$h', 1000))).toMatchObject({ code: 3, answer: { kind: 'refuse', fields: ['missing'] }, log: [] });
  });

  it('deletes with -r only when the home may go, says absent for an unknown user, refuses a system account', () => {
    const homes = join(dir, 'del-homes');
    mkdirSync(join(homes, 'app'), { recursive: true });
    const me = statSync(join(homes, 'app')).uid;
    const uid = Math.max(me, 1000);
    accounts([`app:${uid}:${homes}/app`, 'root:0:/root']);
    const purge = runCall(deleteUserCall('app', homes, 1000));
    expect(purge.log).toEqual([uid === me ? 'userdel|-f|-r|--|app' : 'userdel|-f|--|app']);
    accounts([`app:${uid}:${homes}/app`]);
    const kept = runCall(deleteUserCall('app', '/srv/homes', 1000));
    expect([kept.answer, kept.log]).toEqual([
      { kind: 'done', fields: ['0', uid === me ? 'outside' : 'owner', ...(uid === me ? [] : [String(me)]), `${homes}/app`] },
      ['userdel|-f|--|app'],
    ]);
    accounts([`app:${uid}:${homes}/app`]);
    expect(runCall(deleteUserCall('ghost', homes, 1000))).toMatchObject({ code: 0, answer: { kind: 'absent' }, log: [] });
    accounts(['root:0:/root']);
    expect(runCall(deleteUserCall('root', homes, 1000))).toMatchObject({ code: 3, answer: { kind: 'refuse', fields: ['system', 'user', '0'] }, log: [] });
  });
});
