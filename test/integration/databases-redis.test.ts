import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeCipherA, encodeCipherA } from '../../lib/crypto/cipher-a.js';
import { operationsFor } from '../../scripts/lib/load-operations.js';
import type { Runtime } from '../../lib/runtime.js';
import type { Operation } from '../../lib/wecube/operation.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { asRedisUser, redisEnv, replyOf, unique } from '../support/databases.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackRuntime } from '../support/stack.js';

const SEED = 'abc12345';

describe('redis-user against the stack Redis', () => {
  let rt: Runtime;
  let ops: Operation[];
  const prefix = unique('ru');
  const users: string[] = [];
  const secrets: string[] = [];
  const { host, port, password: adminPassword } = redisEnv();
  const base = (userName: string) => {
    users.push(userName);
    return { guid: 'rg', seed: SEED, host, port, adminPassword: encodeCipherA('rg', SEED, adminPassword), userGuid: 'ug', userName };
  };
  const run = (action: string, items: unknown[]) =>
    runOperation(ops.find((o) => o.plugin === 'redis-user' && o.action === action)!, items, {
      logger: rt.logger,
      signal: new AbortController().signal,
      concurrency: 4,
    });
  const reveal = (sealed: unknown) => {
    const plain = decodeCipherA('ug', SEED, String(sealed));
    secrets.push(plain);
    return plain;
  };
  const authAs = async (user: string, password: string) => {
    try {
      return await asRedisUser(user, password, async () => 'ok');
    } catch (error) {
      return (error as Error).message.split(' ')[0];
    }
  };

  beforeAll(async () => {
    rt = stackRuntime();
    ops = await operationsFor(rt);
  });

  afterAll(async () => {
    await asRedisUser(undefined, adminPassword, async (send) => {
      for (const user of users) await send(['ACL', 'DELUSER', user]);
      await send(['DEL', `${prefix}:ro:1`, `${prefix}:rw:1`, `${prefix}:other`]);
    });
    const logs = capturedLogs.join('\n');
    for (const secret of [adminPassword, ...secrets]) expect(logs).not.toContain(secret);
  });

  it('adds a user that logs in with the returned password and is limited to its commands and key patterns', async () => {
    const name = `${prefix}_app`;
    await asRedisUser(undefined, adminPassword, (send) => send(['SET', `${prefix}:ro:1`, 'seeded']));
    const [out] = await run('add', [{ ...base(name), userReadKeyPattern: `${prefix}:ro:*,${prefix}:rw:*`, userWriteKeyPattern: `${prefix}:rw:*` }]);
    expect(out).toMatchObject({ errorCode: '0', userGuid: 'ug', detail: `user ${name} created` });
    const password = reveal(out!['userPassword']);
    expect(password).toMatch(/^[A-Za-z0-9_]{16}$/);

    await asRedisUser(name, password, async (send) => {
      expect(await replyOf(send, ['GET', `${prefix}:ro:1`])).toBe('seeded');
      expect(await replyOf(send, ['SET', `${prefix}:ro:1`, 'x'])).toBe('NOPERM');
      expect(await replyOf(send, ['SET', `${prefix}:rw:1`, 'v'])).toBe('OK');
      expect(await replyOf(send, ['GET', `${prefix}:rw:1`])).toBe('v');
      expect(await replyOf(send, ['GET', `${prefix}:other`])).toBe('NOPERM');
      expect(await replyOf(send, ['SET', `${prefix}:other`, 'x'])).toBe('NOPERM');
      expect(await replyOf(send, ['FLUSHALL'])).toBe('NOPERM');
      expect(await replyOf(send, ['KEYS', '*'])).toBe('NOPERM');
      expect(await replyOf(send, ['ACL', 'WHOAMI'])).toBe('NOPERM');
    });
    expect(await authAs(name, 'not-the-password')).toBe('WRONGPASS');
  });

  it('replaces the password of an existing user when one is given, and keeps it when not', async () => {
    const name = `${prefix}_again`;
    const [first] = await run('add', [{ ...base(name), userWriteKeyPattern: `${prefix}:rw:*` }]);
    const firstPassword = reveal(first!['userPassword']);
    const given = 'Given-pass word;2';
    secrets.push(given);

    const [second] = await run('add', [{ ...base(name), userPassword: encodeCipherA('ug', SEED, given) }]);
    expect(second).toMatchObject({ errorCode: '0', detail: `user ${name} updated, password replaced` });
    expect(reveal(second!['userPassword'])).toBe(given);
    expect(await authAs(name, firstPassword)).toBe('WRONGPASS');
    expect(await authAs(name, given)).toBe('ok');
    // Patterns were not given: the write pattern of the first call still holds.
    await asRedisUser(name, given, async (send) => expect(await replyOf(send, ['SET', `${prefix}:rw:1`, 'w'])).toBe('OK'));

    const [third] = await run('add', [base(name)]);
    expect(third).toMatchObject({ errorCode: '0', detail: `user ${name} updated, password unchanged` });
    expect(third).not.toHaveProperty('userPassword');
    expect(await authAs(name, given)).toBe('ok');
  });

  it('deletes a user over HTTP: it can no longer log in, and a second delete says it is missing', async () => {
    const name = `${prefix}_gone`;
    const [added] = await run('add', [base(name)]);
    const password = reveal(added!['userPassword']);
    const server: RunningServer = await startServer({ AUTH_MODE: 'off' });
    try {
      const { body } = await postJson(server.url + '/saltstack/v1/redis-user/delete', { inputs: [base(name), base(name)] });
      const outputs = body['results'].outputs as Array<Record<string, unknown>>;
      expect(outputs.map((o) => [o['errorCode'], o['detail']])).toEqual([
        ['0', `user ${name} deleted`],
        ['0', `user ${name} does not exist, nothing to delete`],
      ]);
    } finally {
      await server.stop();
    }
    expect(await authAs(name, password)).toBe('WRONGPASS');
    expect(server.output()).not.toContain(adminPassword);
    expect(server.output()).not.toContain(password);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a full-width colon in a pattern', { userReadKeyPattern: 'app：*' }, 'Parameter userReadKeyPattern validation failed: Contains illegal character'],
    ['a space in a user name', { userName: 'a b' }, 'Parameter userName validation failed: spaces and control characters are not allowed (max 128 characters)'],
    ['the admin account itself', { userName: 'default' }, 'Parameter userName validation failed: default is the admin account of this call'],
  ])('refuses %s and changes nothing', async (_, patch, message) => {
    const before = await asRedisUser(undefined, adminPassword, (send) => send(['ACL', 'LIST']));
    const [out] = await run('add', [{ ...base(`${prefix}_refused`), ...patch }]);
    expect(out).toMatchObject({ errorCode: '1', errorMessage: message });
    expect(await asRedisUser(undefined, adminPassword, (send) => send(['ACL', 'LIST']))).toEqual(before);
  });

  it('reports a wrong admin password as the server refused it', async () => {
    const [out] = await run('delete', [{ ...base(`${prefix}_x`), adminPassword: 'wrong-admin-pass' }]);
    expect(out).toMatchObject({
      errorCode: '1',
      errorType: 'E_DATABASE',
      errorMessage: `Failed to delete redis user:${prefix}_x, ${host}:${port}: WRONGPASS invalid username-password pair or user is disabled.`,
    });
  });
});
