import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { decodeCipherA, encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { DatabaseError, DatabaseUnavailableError } from '../../../lib/errors.js';
import type { RedisConnector, RedisTarget } from '../../../lib/redis/redis-session.js';
import { redisUserAdd, redisUserDelete } from '../../../lib/redis/redis-user-operations.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { captureLogger } from '../helpers.js';

const SEED = 'abc12345';
const ADMIN = 'R3dis-Admin';
const config = loadConfig({ AUTH_MODE: 'off' });
const base = { host: '127.0.0.1', port: 6379, guid: 'g1', seed: SEED, adminPassword: encodeCipherA('g1', SEED, ADMIN), userGuid: 'ug', userName: 'app' };

/** A Redis that knows some users and answers ACL commands; `reply` overrides one command's answer. */
function fakeRedis(users: string[], reply: (args: string[]) => unknown = () => undefined) {
  const sent: string[][] = [];
  const targets: RedisTarget[] = [];
  let closed = 0;
  const connect: RedisConnector = async (target) => {
    targets.push(target);
    return {
      async command(args) {
        sent.push(args);
        const override = reply(args);
        if (override instanceof Error) throw override;
        if (override !== undefined) return override;
        if (args[1] === 'GETUSER') return users.includes(args[2]!) ? { flags: ['on'] } : null;
        if (args[1] === 'DELUSER') return users.includes(args[2]!) ? 1 : 0;
        return 'OK';
      },
      async close() {
        closed += 1;
      },
    };
  };
  return { connect, sent, targets, closed: () => closed };
}

function context() {
  const { logger, lines } = captureLogger();
  return { ctx: { logger, signal: new AbortController().signal, concurrency: 2 }, lines };
}

describe('redis-user/add', () => {
  it('creates a user with a generated password, returned encrypted, as the admin of the call', async () => {
    const redis = fakeRedis([]);
    const { ctx, lines } = context();
    const [out] = await runOperation(
      redisUserAdd({ config, connect: redis.connect }),
      [{ ...base, userReadKeyPattern: 'a:*|b:*', userWriteKeyPattern: 'a:*' }],
      ctx,
    );
    expect(out).toMatchObject({ errorCode: '0', userGuid: 'ug', detail: 'user app created' });
    expect(redis.targets).toEqual([{ host: '127.0.0.1', port: 6379, username: undefined, password: ADMIN }]);
    const setuser = redis.sent.find((a) => a[1] === 'SETUSER')!;
    const password = setuser.find((r) => r.startsWith('>'))!.slice(1);
    expect(decodeCipherA('ug', SEED, out!['userPassword'] as string)).toBe(password);
    expect(setuser.slice(-4)).toEqual(['resetkeys', '%R~a:*', '%R~b:*', '%W~a:*']);
    expect(redis.closed()).toBe(1);
    expect(lines.join('\n')).not.toContain(password);
  });

  it('replaces the password of an existing user when one is given', async () => {
    const redis = fakeRedis(['app']);
    const { ctx } = context();
    const [out] = await runOperation(redisUserAdd({ config, connect: redis.connect }), [{ ...base, userPassword: encodeCipherA('ug', SEED, 'N3w-Pass') }], ctx);
    expect(out).toMatchObject({ errorCode: '0', detail: 'user app updated, password replaced' });
    expect(redis.sent.find((a) => a[1] === 'SETUSER')).toEqual(expect.arrayContaining(['resetpass', '>N3w-Pass']));
    expect(decodeCipherA('ug', SEED, out!['userPassword'] as string)).toBe('N3w-Pass');
  });

  it('keeps the password of an existing user when none is given, and returns none', async () => {
    const redis = fakeRedis(['app']);
    const { ctx } = context();
    const [out] = await runOperation(redisUserAdd({ config, connect: redis.connect }), [base], ctx);
    expect(out).toMatchObject({ errorCode: '0', detail: 'user app updated, password unchanged' });
    expect(out).not.toHaveProperty('userPassword');
    const setuser = redis.sent.find((a) => a[1] === 'SETUSER')!;
    expect(setuser.some((r) => r.startsWith('>') || r === 'resetpass' || r === 'resetkeys')).toBe(false);
  });

  it('masks the password Redis echoes in a refused rule', async () => {
    const redis = fakeRedis([], (args) =>
      args[1] === 'SETUSER' ? new DatabaseError(`ERR Error in ACL SETUSER modifier '${args.find((r) => r.startsWith('>'))}': Syntax error`) : undefined,
    );
    const { ctx, lines } = context();
    const [out] = await runOperation(redisUserAdd({ config, connect: redis.connect }), [{ ...base, userPassword: 'Plain-Secret-9' }], ctx);
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorMessage']).toBe("Failed to add redis user:app, ERR Error in ACL SETUSER modifier '>[redacted]': Syntax error");
    expect(lines.join('\n')).not.toContain('Plain-Secret-9');
  });

  it.each<[Record<string, unknown>, string]>([
    [{ userReadKeyPattern: 'ok:*,bad：*' }, 'Parameter userReadKeyPattern validation failed: Contains illegal character'],
    [{ userWriteKeyPattern: 'a b' }, 'Parameter userWriteKeyPattern validation failed: Contains illegal character'],
    [{ userName: 'two words' }, 'Parameter userName validation failed: spaces and control characters are not allowed (max 128 characters)'],
    [{ userName: 'default' }, 'Parameter userName validation failed: default is the admin account of this call'],
    [{ userName: 'ops', adminUserName: 'ops' }, 'Parameter userName validation failed: ops is the admin account of this call'],
    [{ adminPassword: '' }, 'Parameter adminPassword can not empty.'],
  ])('refuses %j without touching Redis', async (patch, message) => {
    const redis = fakeRedis([]);
    const { ctx } = context();
    const [out] = await runOperation(redisUserAdd({ config, connect: redis.connect }), [{ ...base, ...patch }], ctx);
    expect(out).toMatchObject({ errorCode: '1', errorMessage: message });
    expect(redis.sent).toEqual([]);
  });
});

describe('redis-user/delete', () => {
  it('deletes a user, and says a missing one is missing', async () => {
    const redis = fakeRedis(['app']);
    const { ctx } = context();
    const outs = await runOperation(redisUserDelete({ config, connect: redis.connect }), [base, { ...base, userName: 'ghost' }], ctx);
    expect(outs.map((o) => [o.errorCode, o['detail']])).toEqual([
      ['0', 'user app deleted'],
      ['0', 'user ghost does not exist, nothing to delete'],
    ]);
    expect(redis.sent).toEqual([
      ['ACL', 'DELUSER', 'app'],
      ['ACL', 'DELUSER', 'ghost'],
    ]);
  });

  it('reports an unreachable server with its address', async () => {
    const connect: RedisConnector = async () => {
      throw new DatabaseUnavailableError('127.0.0.1:1: ECONNREFUSED');
    };
    const { ctx } = context();
    const [out] = await runOperation(redisUserDelete({ config, connect }), [base], ctx);
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_DB_UNAVAILABLE', errorMessage: 'Failed to delete redis user:app, 127.0.0.1:1: ECONNREFUSED' });
  });
});
