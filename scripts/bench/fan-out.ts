/**
 * Fan-out (SPEC §9): the same script through host-script/run-s3 on 1 host, on 10 hosts in one request,
 * and on the same 10 hosts one request each, sequentially; rounds alternate the three so that the noise
 * of a busy machine falls on all of them. Targets: T10/T1 <= 1.5 and Tsequential/T10 >= 5.
 * The stack is brought to 11 minions for the run (ids 127.0.0.1..127.0.0.11) and back to 2 afterwards.
 *
 * All minions share this machine's cores, so every job's host-side CPU (salt forks a process per job) adds
 * up across the 10 "hosts" in a way it would not on 10 real machines. The script therefore runs for a
 * second, like a short real deploy step, and salt's own fan-out (straight to salt-api, no plugin) is
 * printed as the rig's baseline. runAs is root, the minions' own user: the plugin sends no `runas` then
 * (with it, salt runs `su - root` and a Python interpreter on the host for every job, to read the login
 * environment; that alone made T10/T1 about 2 on this rig).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readEnvFile } from '../lib/env-file.js';
import { root, withMinions } from './_minions.js';

const ROUNDS = 4;
const SCRIPT = '#!/bin/sh\necho "fan-out $1 as $(id -un)"\nsleep 1\n';
const N = 10;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const run = (): Promise<boolean> => withMinions(N + 1, measure);

async function measure(): Promise<boolean> {
  const env = readEnvFile(join(root, '.stack', 'stack.env'));
  const { loadConfig } = await import('../../lib/config.js');
  const { createRuntime } = await import('../../lib/runtime.js');
  const { createLogger } = await import('../../lib/log/logger.js');
  const { hostScriptRun } = await import('../../lib/scripts/host-script-run-operation.js');
  const { hostScriptDeps } = await import('../../lib/scripts/script-deps.js');
  const { runOperation } = await import('../../lib/wecube/run-operation.js');

  const rt = createRuntime(loadConfig({ STAGE: 'local', AUTH_MODE: 'off', ...env }), createLogger('error'));
  const minions = env['STACK_MINIONS']!.split(',');
  if (minions.length < N + 1) throw new Error(`expected ${N + 1} minions, the stack has ${minions.length}`);
  const [single, ...rest] = minions as [string, ...string[]];
  const ten = rest.slice(0, N);

  const key = `bench/fan-out-${randomBytes(4).toString('hex')}.sh`;
  const ref = { bucket: env['S3_BUCKET']!, key, url: key };
  await rt.store().put(ref, Readable.from([Buffer.from(SCRIPT)]));
  const endpoint = `${env['S3_ENDPOINT']}/${env['S3_BUCKET']}/${key}`;

  const op = hostScriptRun(hostScriptDeps(rt), 'run-s3');
  const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };
  const request = async (hosts: string[]) => {
    const t0 = performance.now();
    const outputs = await runOperation(
      op,
      hosts.map((target, i) => ({ guid: `b${i}`, target, endpoint, runAs: 'root', args: "'hello world'" })),
      ctx,
    );
    const failed = outputs.filter((o) => o['errorCode'] !== '0');
    if (failed.length) throw new Error(`fan-out request failed: ${JSON.stringify(failed[0])}`);
    return performance.now() - t0;
  };
  const sequential = async () => {
    const t0 = performance.now();
    for (const host of ten) await request([host]);
    return performance.now() - t0;
  };

  try {
    // warm-up: salt-api login, the minions' version cache, S3 client, first job on every minion
    await request(minions);
    const t1: number[] = [];
    const t10: number[] = [];
    const tSeq: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      t1.push(await request([single]));
      t10.push(await request(ten));
      tSeq.push(await sequential());
    }
    // Baselines without the plugin: test.ping, and the very cmd.script call the plugin makes, sent straight
    // to salt-api. Their T10/T1 is what this rig allows; the plugin's own share is the difference.
    const url = `${await rt.store().presignGet(ref, 900)}#script.sh`;
    const direct = async (fun: string, kwarg: Record<string, unknown>, tgt: string[]) => {
      const t0 = performance.now();
      await rt.salt().local({ fun, kwarg, tgt, timeout: 5, gatherJobTimeout: 10 });
      return performance.now() - t0;
    };
    for (const [name, fun, kwarg] of [
      ['test.ping', 'test.ping', {}],
      [
        'cmd.script (the call the plugin makes for runAs root, no plugin)',
        'cmd.script',
        { source: url, args: ['hello world'], python_shell: false, timeout: 600 },
      ],
      [
        'cmd.script with runas root (salt then runs su - and python per job)',
        'cmd.script',
        { source: url, args: ['hello world'], runas: 'root', python_shell: false, timeout: 600 },
      ],
    ] as const) {
      const b1: number[] = [];
      const b10: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        b1.push(await direct(fun, kwarg, [single]));
        b10.push(await direct(fun, kwarg, ten));
      }
      console.log(
        `rig baseline, ${name} straight to salt-api: T${N}/T1 = ${(median(b10) / median(b1)).toFixed(2)} (${median(b1).toFixed(0)} ms / ${median(b10).toFixed(0)} ms)`,
      );
    }
    const [m1, m10, mSeq] = [median(t1), median(t10), median(tSeq)];
    const fan = m10 / m1;
    const speedup = mSeq / m10;
    console.log(
      `1 host: ${m1.toFixed(0)} ms, ${N} hosts in one request: ${m10.toFixed(0)} ms, ${N} sequential requests: ${mSeq.toFixed(0)} ms (medians of ${ROUNDS} alternated rounds)`,
    );
    console.log(`T${N}/T1 = ${fan.toFixed(2)} (target <= 1.5), Tsequential/T${N} = ${speedup.toFixed(2)} (target >= 5)`);
    return fan <= 1.5 && speedup >= 5;
  } finally {
    await rt
      .store()
      .remove(ref)
      .catch(() => undefined);
  }
}
