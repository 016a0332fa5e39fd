import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SaltApiAuthError, SaltApiUnavailableError } from '../../lib/errors.js';
import { runBatched } from '../../lib/salt/run-batched.js';
import { SaltClient } from '../../lib/salt/salt-client.js';
import { capturedLogs, captureLogger, stackCommand, stackConfig, stackEnv, stackMinions } from '../support/stack.js';

const config = stackConfig();
const client = (overrides: Partial<ConstructorParameters<typeof SaltClient>[0]> = {}) =>
  new SaltClient({ ...config.salt, logger: captureLogger(), ...overrides });

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Counts /login calls by watching the token: a new login yields a new salt-api session id. */
const tokenOf = (c: SaltClient) => c.login();

describe('salt-api client against the real stack', () => {
  const salt = client();
  const [first, second] = stackMinions() as [string, string];

  it('logs in over TLS verified with the stack CA and reuses the token', async () => {
    const token = await tokenOf(salt);
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    await salt.local({ fun: 'test.ping', tgt: [first] });
    await salt.local({ fun: 'test.ping', tgt: [first] });
    expect(await tokenOf(salt)).toBe(token);
  });

  it('refuses salt-api without the CA (TLS verification is on by default)', async () => {
    const noCa = client({ ca: undefined });
    await expect(noCa.login()).rejects.toBeInstanceOf(SaltApiUnavailableError);
  });

  it('reports wrong credentials as SaltApiAuthError without echoing the password', async () => {
    const bad = client({ password: 'definitely-wrong-password' });
    const error = await bad.login().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SaltApiAuthError);
    expect(String((error as Error).message)).not.toContain('definitely-wrong-password');
  });

  it('pings every stack minion in one job with real retcodes', async () => {
    const results = await salt.local({ fun: 'test.ping', tgt: stackMinions() });
    expect(results.map((r) => [r.host, r.ok, r.ret])).toEqual(stackMinions().map((h) => [h, true, true]));
  });

  it('marks an unknown host in a list target NO_RETURN while the others succeed', async () => {
    const results = await salt.local({ fun: 'cmd.run_all', arg: ['hostname'], tgt: [first, '10.255.255.254', second] });
    expect(results.map((r) => r.host)).toEqual([first, '10.255.255.254', second]);
    expect(results[0]).toMatchObject({ ok: true, retcode: 0 });
    expect(results[1]).toMatchObject({ ok: false, error: 'NO_RETURN', retcode: null });
    expect(results[2]).toMatchObject({ ok: true, retcode: 0 });
  });

  it('returns the real exit code and output of a command', async () => {
    const [result] = await salt.local({
      fun: 'cmd.run_all',
      arg: [['sh', '-c', 'echo out; echo err >&2; exit 7']],
      kwarg: { python_shell: false },
      tgt: [first],
    });
    expect(result).toMatchObject({ ok: false, error: 'NONZERO_EXIT', retcode: 7, stdout: 'out', stderr: 'err' });
  });

  it('reports TIMEOUT for a command that exceeds its own timeout, and the process is gone', async () => {
    const marker = `saltplug-timeout-${process.pid}-${Date.now()}`;
    const started = Date.now();
    const [result] = await salt.local({
      fun: 'cmd.run_all',
      arg: [['bash', '-c', `exec -a ${marker} sleep 30`]],
      kwarg: { python_shell: false, timeout: 2 },
      tgt: [first],
    });
    expect(result).toMatchObject({ ok: false, error: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(20_000);
    const [ps] = await salt.local({ fun: 'cmd.run_all', arg: [['pgrep', '-f', marker]], kwarg: { python_shell: false }, tgt: [first] });
    expect(ps!.retcode).toBe(1); // pgrep found nothing: the sleeping command was killed
  });

  it('gives up on a salt-api that does not answer within the client timeout', async () => {
    const impatient = client({ timeoutMs: 1000 });
    const started = Date.now();
    await expect(impatient.lowstate([{ client: 'local', fun: 'test.sleep', arg: [5], tgt: [first], tgt_type: 'list' }])).rejects.toBeInstanceOf(
      SaltApiUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('polls an async job to completion', async () => {
    const [job] = await salt.localAsync([
      { fun: 'cmd.run_all', arg: [['sh', '-c', 'sleep 2; echo done']], kwarg: { python_shell: false }, tgt: [first, second] },
    ]);
    expect(job!.jid).toMatch(/^\d{20}$/);
    const progress: number[] = [];
    const results = await salt.waitForJob(job!.jid, [first, second], { deadlineMs: Date.now() + 60_000, onProgress: (done) => progress.push(done) });
    expect(results.map((r) => [r.host, r.ok, r.stdout])).toEqual([
      [first, true, 'done'],
      [second, true, 'done'],
    ]);
    expect(progress.at(-1)).toBe(2);
  });

  it('marks hosts that never answer an async job NO_RETURN at the deadline', async () => {
    const [job] = await salt.localAsync([{ fun: 'test.ping', tgt: [first] }]);
    const results = await salt.waitForJob(job!.jid, [first, '10.255.255.253'], { deadlineMs: Date.now() + 3000 });
    expect(results[0]).toMatchObject({ host: first, ok: true });
    expect(results[1]).toMatchObject({ host: '10.255.255.253', ok: false, error: 'NO_RETURN' });
  });

  it('reports a stopped minion NO_RETURN after a liveness probe, long before the deadline', async () => {
    const pidFile = join(stackEnv()['STACK_DIR']!, 'salt', 'minions', second, 'salt-minion.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    try {
      for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 200));
      expect(isAlive(pid)).toBe(false);
      const [job] = await salt.localAsync([{ fun: 'cmd.run_all', arg: [['sleep', '1']], kwarg: { python_shell: false }, tgt: [first, second] }]);
      const started = Date.now();
      const results = await salt.waitForJob(job!.jid, [first, second], { deadlineMs: started + 120_000, livenessEveryMs: 2000 });
      expect(results[0]).toMatchObject({ host: first, ok: true, retcode: 0 });
      expect(results[1]).toMatchObject({ host: second, ok: false, error: 'NO_RETURN' });
      expect(results[1]!.message).toMatch(/does not answer/);
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      await stackCommand('up');
    }
  });

  it('with a probe before the deadline, a long job is reported busy, naming the job and the time', async () => {
    const marker = `busy2-${process.pid}-${Date.now()}`;
    const [job] = await salt.localAsync([{ fun: 'cmd.run_all', arg: [['sh', '-c', 'sleep 30', marker]], kwarg: { python_shell: false }, tgt: [first] }]);
    const started = Date.now();
    const [result] = await salt.waitForJob(job!.jid, [first], { deadlineMs: started + 9000, livenessEveryMs: 2000 });
    expect(result).toMatchObject({ host: first, ok: false, error: 'BUSY', jid: job!.jid });
    expect(result!.message).toMatch(
      new RegExp(`^Minion ${first.replace(/\./g, '\\.')} is busy: job ${job!.jid} was still running there after \\d+ s \\(the deadline\\)$`),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    await salt.local({ fun: 'cmd.run_all', arg: [['pkill', '-f', marker]], kwarg: { python_shell: false }, tgt: [first] });
  });

  it('batches identical calls into one job and different calls into concurrent async jobs', async () => {
    const same = await runBatched(
      salt,
      stackMinions().map((host) => ({ host, fun: 'cmd.run_all', arg: [['echo', 'same']], kwarg: { python_shell: false } })),
      {
        deadlineMs: Date.now() + 60_000,
      },
    );
    expect(same.every((r) => r.ok && r.stdout === 'same')).toBe(true);
    const different = await runBatched(
      salt,
      [
        { host: first, fun: 'cmd.run_all', arg: [['echo', 'a']], kwarg: { python_shell: false } },
        { host: second, fun: 'cmd.run_all', arg: [['echo', 'b']], kwarg: { python_shell: false } },
        { host: first, fun: 'grains.item', arg: ['num_cpus'] },
      ],
      { deadlineMs: Date.now() + 60_000 },
    );
    expect(different.map((r) => r.ok)).toEqual([true, true, true]);
    expect(different[0]!.stdout).toBe('a');
    expect(different[1]!.stdout).toBe('b');
    expect((different[2]!.ret as { num_cpus: number }).num_cpus).toBe(cpus().length);
  });

  it('runs runner and wheel functions on the master', async () => {
    const keys = (await salt.wheel('key.list_all')) as { minions: string[] };
    expect(keys.minions).toEqual(expect.arrayContaining(stackMinions()));
    const up = await salt.runner('manage.up');
    expect(up).toEqual(expect.arrayContaining(stackMinions()));
  });

  it('logs in again once after salt-api restarts (its session tokens die with it)', async () => {
    const restarting = client();
    const before = await restarting.login();
    await stackCommand('restart', 'salt-api');
    const results = await restarting.local({ fun: 'test.ping', tgt: [first] });
    expect(results[0]).toMatchObject({ ok: true });
    expect(await restarting.login()).not.toBe(before);
  });

  afterAll(() => {
    const secrets = [stackEnv()['SALT_API_PASSWORD']!];
    for (const line of capturedLogs) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
