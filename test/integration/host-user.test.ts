import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { decodeCipherA, encodeCipherA } from '../../lib/crypto/cipher-a.js';
import { hostUserAdd, hostUserDelete, hostUserPassword } from '../../lib/users/host-user-operations.js';
import { exitCode, ownerOf, run, runItems, uniqueName } from '../support/hosts.js';
import { said } from '../support/salt-detail.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackMinions, stackRuntime } from '../support/stack.js';

type Out = Record<string, any>;

const rt = stackRuntime();
const add = hostUserAdd(rt);
const del = hostUserDelete(rt);
const passwd = hostUserPassword(rt);
const [m0, m1] = stackMinions() as [string, string];
const UNKNOWN = '10.255.255.250';
const root = `/tmp/${uniqueName('hostuser-')}`;
const canary = `${root}-canary`;
const users: string[] = [];
const groups: string[] = [];
const passwords: string[] = [];
const user = () => {
  const name = uniqueName('wu');
  users.push(name);
  return name;
};
const group = () => {
  const name = uniqueName('wg');
  groups.push(name);
  return name;
};
const secret = (text: string) => {
  passwords.push(text);
  return text;
};

/** An id free for both a user and a group on this machine. */
function freeId(): number {
  for (;;) {
    const id = 20000 + randomInt(9000);
    if (exitCode('getent', ['passwd', String(id)]) !== 0 && exitCode('getent', ['group', String(id)]) !== 0) return id;
  }
}

const exists = (name: string) => exitCode('id', [name]) === 0;
const shadowHash = (name: string) => run('getent', ['shadow', name]).split(':')[1]!;

/** Whether `password` logs `name` in: its shadow hash recomputed with openssl from the same salt. */
function passwordWorks(name: string, password: string): boolean {
  const hash = shadowHash(name);
  const [, scheme, salt] = hash.split('$');
  expect(scheme).toBe('6');
  return run('openssl', ['passwd', '-6', '-salt', salt!, '-stdin'], password + '\n').trim() === hash;
}

beforeAll(() => {
  mkdirSync(root, { recursive: true });
});

afterAll(() => {
  for (const u of users) if (exists(u)) exitCode('userdel', ['-rf', u]);
  for (const g of groups) exitCode('groupdel', [g]);
  rmSync(root, { recursive: true, force: true });
  const logs = capturedLogs.join('\n');
  for (const p of passwords) expect([p, logs.includes(p)]).toEqual([p, false]);
  expect(existsSync(canary)).toBe(false);
});

describe('host-user/add', () => {
  it('creates users on both minions with group, ids, home and rw paths; the shadow holds a SHA-512 hash of the password', async () => {
    const [ua, ub, ux] = [user(), user(), user()];
    const ga = group();
    const [uid, gid] = [freeId(), freeId()];
    const pa = secret(`Pa$$-${uid}'"\`;|&`);
    const pb = secret(`plain-${uid}-pw`);
    const [a, b, ghost] = (await runItems(rt, add, [
      {
        guid: 'ga',
        seed: 'seed-1',
        target: m0,
        userName: `${ua}:${ga}`,
        password: encodeCipherA('ga', 'seed-1', pa),
        userId: String(uid),
        groupId: String(gid),
        homeDir: `${root}/home-a`,
        rwDir: `${root}/rw-a/logs,[${root}/rw-a/data]`,
        rwFile: `${root}/rw-a/app.pid`,
      },
      { guid: 'gb', target: m1, userName: ub, password: pb },
      { guid: 'gx', target: UNKNOWN, userName: ux, password: pb },
    ])) as Out[];
    expect(a).toMatchObject({ errorCode: '0' });
    expect(said(a)).toBe(`user ${ua} created on ${m0} (group ${ga})`);
    expect(a!['password']).toMatch(/^\{cipher_a\}[0-9a-f]+$/);
    expect(decodeCipherA('ga', 'seed-1', a!['password'])).toBe(pa);
    expect(b).toMatchObject({ errorCode: '0', password: pb });
    expect(said(b)).toBe(`user ${ub} created on ${m1}`);
    expect(ghost).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(exists(ux)).toBe(false);

    expect(run('id', ['-u', ua]).trim()).toBe(String(uid));
    expect(run('id', ['-gn', ua]).trim()).toBe(ga);
    expect(run('getent', ['group', ga]).split(':')[2]).toBe(String(gid));
    expect(run('getent', ['passwd', ua]).split(':')[5]).toBe(`${root}/home-a`);
    expect(ownerOf(`${root}/home-a`)).toBe(`${ua}:${ga}`);
    for (const path of [`${root}/rw-a/logs`, `${root}/rw-a/data`, `${root}/rw-a/app.pid`]) expect([path, ownerOf(path)]).toEqual([path, `${ua}:${ga}`]);
    expect(passwordWorks(ua, pa)).toBe(true);
    expect(passwordWorks(ua, pb)).toBe(false);
    expect(passwordWorks(ub, pb)).toBe(true);
  });

  it('updates an existing user: the group is added, the password changes only when one is given', async () => {
    const u = user();
    const [g1, g2] = [group(), group()];
    const p1 = secret(`first-${u}`);
    const p2 = secret(`second-${u}`);
    await runItems(rt, add, [{ guid: 'g', target: m0, userName: `${u}:${g1}`, password: p1 }]);
    const before = shadowHash(u);
    const [kept] = (await runItems(rt, add, [{ guid: 'g', seed: 's', target: m0, userName: u, userGroup: g2 }])) as Out[];
    expect(kept).toMatchObject({ errorCode: '0', password: '' });
    expect(said(kept)).toBe(`user ${u} updated on ${m0} (group ${g2}), password unchanged`);
    expect(shadowHash(u)).toBe(before);
    expect(run('id', ['-gn', u]).trim()).toBe(g1);
    expect(run('id', ['-Gn', u]).trim().split(' ').sort()).toEqual([g1, g2].sort());
    const [changed] = (await runItems(rt, add, [{ guid: 'g', target: m0, userName: u, password: p2 }])) as Out[];
    expect(changed).toMatchObject({ errorCode: '0', password: p2 });
    expect(passwordWorks(u, p2)).toBe(true);
  });

  it('refuses system accounts, shell characters in names and a generated password it could not return encrypted', async () => {
    const rootHash = shadowHash('root');
    const bad = [';id', `x$(touch ${canary})`, `x\`touch ${canary}\``, `x'y`, 'x"y', 'x\ny', 'x y', '-rf'];
    const outputs = (await runItems(rt, add, [
      { guid: 'root', target: m0, userName: 'root', password: 'x-12345678' },
      { guid: 'sys', target: m0, userName: user(), userGroup: 'sudo', password: 'x-12345678' },
      { guid: 'noseed', target: m0, userName: user() },
      ...bad.map((name, i) => ({ guid: `bad${i}`, target: m0, userName: name, password: 'x-12345678' })),
    ])) as Out[];
    expect(outputs[0]!['errorMessage']).toBe(`user root on ${m0} is a system account (uid 0 < 1000); host-user does not change it`);
    expect(outputs[1]!['errorMessage']).toMatch(/^group sudo on .* is a system account/);
    expect(outputs[2]!['errorMessage']).toBe('Parameter seed can not empty.');
    for (const o of outputs.slice(3)) expect(o['errorMessage']).toMatch(/^Parameter userName validation failed/);
    expect(shadowHash('root')).toBe(rootHash);
    expect(existsSync(canary)).toBe(false);
    for (const u of users.slice(-2)) expect(exists(u)).toBe(false);
  });
});

describe('host-user/password and delete', () => {
  it('changes a password (only its hash reaches the host), and refuses a missing user and root', async () => {
    const u = user();
    await runItems(rt, add, [{ guid: 'g', target: m1, userName: u, password: secret(`old-${u}`) }]);
    const next = secret(`new $(touch ${canary}) \`touch ${canary}\` '${u}`);
    const [ok, missing, rootOut] = (await runItems(rt, passwd, [
      { guid: 'pw', seed: 'seed-2', target: m1, userName: u, password: encodeCipherA('pw', 'seed-2', next) },
      { guid: 'pw', target: m1, userName: 'no_such_user_x9', password: 'whatever-1' },
      { guid: 'pw', target: m1, userName: 'root', password: 'whatever-1' },
    ])) as Out[];
    expect(ok).toMatchObject({ errorCode: '0' });
    expect(said(ok)).toBe(`password of user ${u} changed on ${m1}`);
    expect(decodeCipherA('pw', 'seed-2', ok!['password'])).toBe(next);
    expect(passwordWorks(u, next)).toBe(true);
    expect(missing).toMatchObject({ errorCode: '1', errorMessage: `user no_such_user_x9 not exist on ${m1}` });
    expect(rootOut!['errorMessage']).toContain('is a system account');
    expect(existsSync(canary)).toBe(false);
  });

  it('deletes users on both minions, each home only when it is its own below /home; an absent user is a success that says so', async () => {
    const [u0, u1] = [user(), user()];
    await runItems(rt, add, [
      { guid: 'a', target: m0, userName: u0, password: secret(`d0-${u0}`), homeDir: `${root}/home-${u0}` },
      { guid: 'b', target: m1, userName: u1, password: secret(`d1-${u1}`) },
    ]);
    expect(existsSync(`${root}/home-${u0}`)).toBe(true);
    expect(ownerOf(`/home/${u1}`)).toBe(`${u1}:${u1}`);
    const outputs = (await runItems(rt, del, [
      { guid: 'a', target: m0, userName: `${u0}:whatever` },
      { guid: 'b', target: m1, userName: u1 },
      { guid: 'c', target: m0, userName: 'no_such_user_x8' },
      { guid: 'd', target: m0, userName: 'root' },
      { guid: 'e', target: UNKNOWN, userName: u1 },
    ])) as Out[];
    expect(outputs.map((o) => [o['errorCode'], said(o) ?? o['errorMessage']])).toEqual([
      ['0', `user ${u0} deleted on ${m0}; home ${root}/home-${u0} kept: it is not below the home root /home`],
      ['0', `user ${u1} deleted on ${m1}`],
      ['0', `user no_such_user_x8 does not exist on ${m0}, nothing to delete`],
      ['1', `user root on ${m0} is a system account (uid 0 < 1000); host-user does not change it`],
      ['1', `Salt-master can not recognize ${UNKNOWN}, please check if salt-minion installed on this target.`],
    ]);
    expect(exists(u0)).toBe(false);
    expect(exists(u1)).toBe(false);
    expect(existsSync(`${root}/home-${u0}`)).toBe(true);
    expect(existsSync(`/home/${u1}`)).toBe(false);
    expect(exists('root')).toBe(true);
  });
});

describe('the old API guide examples over HTTP (legacy paths, exact JSON)', () => {
  let server: RunningServer;
  let appExisted = false;
  let appsExisted = false;
  beforeAll(async () => {
    appExisted = exists('app');
    appsExisted = exitCode('getent', ['group', 'apps']) === 0;
    server = await startServer({ AUTH_MODE: 'off' });
  });
  afterAll(async () => {
    await server?.stop();
    if (!appsExisted) exitCode('groupdel', ['apps']);
    expect(server.output()).not.toContain('Apps@2018!');
  });

  it('adds and removes the user app of /v1/deploy/user/add and /v1/deploy/user/remove', async () => {
    // The example creates and deletes a real account named app: never touch one that was already there.
    expect(appExisted).toBe(false);
    const addBody =
      '{\n  "inputs":[{\n        "guid":"10005_000000001",\n        "target":"127.0.0.1",\n        "userName":"app",\n        "password":"Apps@2018!",\n        "userGroup":"apps"\n    }]\n}';
    const added = await postJson(server.url + '/v1/deploy/user/add', addBody);
    expect(added.status).toBe(200);
    expect(added.body).toEqual({
      resultCode: '0',
      resultMessage: 'success',
      results: { outputs: [{ guid: '10005_000000001', password: 'Apps@2018!', detail: expect.any(String), errorCode: '0', errorMessage: '' }] },
    });
    expect(run('id', ['-gn', 'app']).trim()).toBe('apps');
    expect(passwordWorks('app', 'Apps@2018!')).toBe(true);

    const removeBody = '{\n  "inputs":[{\n        "guid":"10005_000000001",\n        "target":"127.0.0.1",\n        "userName":"app"\n    }]\n}';
    const removed = await postJson(server.url + '/v1/deploy/user/remove', removeBody);
    expect(removed.body).toEqual({
      resultCode: '0',
      resultMessage: 'success',
      results: { outputs: [{ guid: '10005_000000001', detail: expect.any(String), errorCode: '0', errorMessage: '' }] },
    });
    expect(exists('app')).toBe(false);
  });
});
