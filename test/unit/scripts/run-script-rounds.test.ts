import { describe, expect, it } from '@jest/globals';
import { normaliseHostReturn, type HostResult } from '../../../lib/salt/normalise-result.js';
import type { HostCall } from '../../../lib/salt/run-batched.js';
import type { ScriptStep } from '../../../lib/scripts/plan-scripts.js';
import { runScriptRounds, type ScriptJob } from '../../../lib/scripts/run-script-rounds.js';

const step = (path: string, args: string[] = []): ScriptStep => ({ label: path, source: { kind: 'local', path }, args, cwd: '/' });
const job = (host: string, ...steps: ScriptStep[]): ScriptJob => ({ host, steps, runAs: 'root', timeoutS: 10 });

/** A fake round runner: exit code from a table keyed by `host path`, records every round. */
function fakeSalt(exitCodes: Record<string, number> = {}) {
  const rounds: HostCall[][] = [];
  return {
    rounds,
    deps: {
      buildCall: async (_job: ScriptJob, s: ScriptStep, variant: number) => ({
        fun: 'cmd.run_all',
        kwarg: { cmd: [(s.source as { path: string }).path, ...s.args], variant },
      }),
      runRound: async (calls: HostCall[]): Promise<HostResult[]> => {
        rounds.push(calls);
        return calls.map((c) => {
          const path = (c.kwarg!['cmd'] as string[])[0]!;
          const retcode = exitCodes[`${c.host} ${path}`] ?? 0;
          return normaliseHostReturn(c.host, { ret: { pid: 1, retcode, stdout: `${path}@${c.host}`, stderr: '' }, retcode });
        });
      },
    },
  };
}

describe('runScriptRounds', () => {
  it('runs the k-th script of every item in round k: the same script on many hosts is one round', async () => {
    const salt = fakeSalt();
    const hosts = ['h1', 'h2', 'h3'];
    const results = await runScriptRounds(
      hosts.map((h) => job(h, step('/a.sh'), step('/b.sh'))),
      salt.deps,
    );
    expect(salt.rounds.map((r) => r.map((c) => `${c.host}:${(c.kwarg!['cmd'] as string[])[0]}`))).toEqual([
      ['h1:/a.sh', 'h2:/a.sh', 'h3:/a.sh'],
      ['h1:/b.sh', 'h2:/b.sh', 'h3:/b.sh'],
    ]);
    expect(results[1]).toEqual({ ok: true, retCode: 0, outputs: ['/a.sh@h2', '/b.sh@h2'] });
  });

  it('stops an item at its first failure and keeps the exit code, the others go on', async () => {
    const salt = fakeSalt({ 'h1 /a.sh': 5 });
    const [h1, h2] = await runScriptRounds([job('h1', step('/a.sh'), step('/b.sh')), job('h2', step('/a.sh'), step('/b.sh'))], salt.deps);
    expect(h1).toMatchObject({ ok: false, retCode: 5, outputs: ['/a.sh@h1'] });
    expect(h1!.error).toMatchObject({ name: 'JobFailedError' });
    expect(h2).toMatchObject({ ok: true, outputs: ['/a.sh@h2', '/b.sh@h2'] });
    expect(salt.rounds[1]!.map((c) => c.host)).toEqual(['h2']);
  });

  it('runs an identical item on the same host twice, in separate rounds', async () => {
    const salt = fakeSalt();
    const results = await runScriptRounds([job('h1', step('/a.sh')), job('h1', step('/a.sh')), job('h1', step('/a.sh', ['x']))], salt.deps);
    expect(salt.rounds.map((r) => r.length)).toEqual([2, 1]);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('gives identical steps the same variant and different ones different variants', async () => {
    const salt = fakeSalt();
    await runScriptRounds([job('h1', step('/a.sh')), job('h2', step('/a.sh')), job('h3', step('/a.sh', ['x']))], salt.deps);
    expect(salt.rounds[0]!.map((c) => c.kwarg!['variant'])).toEqual([0, 0, 1]);
  });

  it('fails only the item whose call cannot be built (a missing S3 object)', async () => {
    const salt = fakeSalt();
    const deps = {
      ...salt.deps,
      buildCall: async (j: ScriptJob, s: ScriptStep, v: number) => {
        if (j.host === 'bad') throw new Error('S3 file x is not found.');
        return salt.deps.buildCall(j, s, v);
      },
    };
    const results = await runScriptRounds([job('bad', step('/a.sh')), job('good', step('/a.sh'))], deps);
    expect(results[0]).toMatchObject({ ok: false, error: new Error('S3 file x is not found.') });
    expect(results[1]).toMatchObject({ ok: true });
  });

  it('succeeds at once with no salt call for an item without scripts', async () => {
    const salt = fakeSalt();
    expect(await runScriptRounds([job('h1')], salt.deps)).toEqual([{ ok: true, retCode: 0, outputs: [] }]);
    expect(salt.rounds).toEqual([]);
  });

  it('fails every item of a round that salt-api could not run', async () => {
    const salt = fakeSalt();
    const deps = { ...salt.deps, runRound: async () => Promise.reject(new Error('salt-api down')) };
    const results = await runScriptRounds([job('h1', step('/a.sh'), step('/b.sh')), job('h2', step('/a.sh'))], deps);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
  });
});
