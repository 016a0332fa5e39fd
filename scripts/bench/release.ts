/**
 * Release (issues: releases, fleet scale): the same release through the real state machine (the ASL run
 * in-process, its tasks the real handlers; each batch a Distributed Map over slices) to 1 minion, and to 30
 * minions with batchSize 10 (three batches of ten hosts at a time); rounds alternate the two. Prints
 * T30/T1. With three batches, each as long as a 1-host release at best, 3.0 is the floor of a perfect rig;
 * what is above it is the cost of ten hosts at once on this 2-core machine (31 minions, salt-api and the
 * plugin share it). The stack is brought to 31 minions (each with its own /srv/stack-apps) and back to 2.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { readEnvFile } from '../lib/env-file.js';
import { root, withMinions } from './_minions.js';

const ROUNDS = 3;
const N = 30;
const BATCH = 10;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A small app: start writes a marker, stop removes it, health checks it; one conf file with a placeholder. */
async function appPackage(): Promise<Buffer> {
  const pack = tar.pack();
  const file = (name: string, content: string, mode = 0o644) => pack.entry({ name, mode }, content);
  file('VERSION', '1.0\n');
  file('conf/app.properties', 'version=[@app_version]\n');
  file('bin/start.sh', '#!/bin/sh\ncd "$(dirname "$0")/.." && echo running > run.marker\n', 0o755);
  file('bin/stop.sh', '#!/bin/sh\ncd "$(dirname "$0")/.." && rm -f run.marker\n', 0o755);
  file('bin/health.sh', '#!/bin/sh\ncd "$(dirname "$0")/.." && test -f run.marker\n', 0o755);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const run = (): Promise<boolean> => withMinions(N + 1, measure);

async function measure(): Promise<boolean> {
  const env = readEnvFile(join(root, '.stack', 'stack.env'));
  const { loadConfig } = await import('../../lib/config.js');
  const { createRuntime } = await import('../../lib/runtime.js');
  const { createLogger } = await import('../../lib/log/logger.js');
  const { releaseStart } = await import('../../lib/releases/release-api.js');
  const { runOperation } = await import('../../lib/wecube/run-operation.js');

  const rt = createRuntime(loadConfig({ STAGE: 'local', AUTH_MODE: 'off', ...env, RELEASE_RUNNER: 'local', RELEASE_POLL_SECONDS: '1' }), createLogger('error'));
  const minions = env['STACK_MINIONS']!.split(',');
  if (minions.length < N + 1) throw new Error(`expected ${N + 1} minions, the stack has ${minions.length}`);
  const [single, ...rest] = minions as [string, ...string[]];
  const fleet = rest.slice(0, N);
  const apps = env['STACK_APPS_MOUNT'] ?? '/srv/stack-apps';
  const tag = randomBytes(3).toString('hex');

  const key = `bench/release-${tag}.tgz`;
  const ref = { bucket: env['S3_BUCKET']!, key, url: key };
  await rt.store().put(ref, Readable.from([await appPackage()]));
  const endpoint = `${env['S3_ENDPOINT']}/${env['S3_BUCKET']}/${key}`;
  const { port } = await rt.releaseRunner();
  const settled = (port as unknown as { settled(arn: string): Promise<{ status: string; cause?: string }> }).settled.bind(port);
  const ctx = { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 };

  let n = 0;
  const release = async (targets: string[], batchSize: number) => {
    const t0 = performance.now();
    const [out] = await runOperation(
      releaseStart(rt),
      [
        {
          name: 'bench',
          mode: n++ === 0 ? 'new' : 'update',
          endpoint,
          confFiles: 'conf/app.properties',
          variableList: 'app_version=1.0',
          destinationPath: `${apps}/bench-${tag}/`,
          userName: `bench${tag}`,
          startScript: 'bin/start.sh',
          stopScript: 'bin/stop.sh',
          healthScript: 'bin/health.sh',
          targets,
          strategy: { batchSize, maxFailures: 0 },
        },
      ],
      ctx,
    );
    if (out!['errorCode'] !== '0') throw new Error(`release not started: ${out!['errorMessage']}`);
    const end = await settled(String(out!['executionArn']));
    if (end.status !== 'SUCCEEDED') throw new Error(`release ${end.status}: ${end.cause ?? ''}`);
    return performance.now() - t0;
  };

  try {
    // warm-up: the user and a first install on every minion, salt-api login, caches. One host at a time: the
    // stack's minions share this machine's /etc/passwd, and concurrent useradd/groupadd on one file race
    // (on real hosts each has its own).
    await release(minions, 1);
    const t1: number[] = [];
    const t10: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      t1.push(await release([single], 1));
      t10.push(await release(fleet, BATCH));
    }
    const [m1, m10] = [median(t1), median(t10)];
    console.log(
      `release (update: stop, distribute, start, health) to 1 host: ${m1.toFixed(0)} ms; to ${N} hosts, batchSize ${BATCH}: ${m10.toFixed(0)} ms (medians of ${ROUNDS} alternated rounds)`,
    );
    console.log(`T${N}/T1 = ${(m10 / m1).toFixed(2)} (${Math.ceil(N / BATCH)} batches: ${Math.ceil(N / BATCH).toFixed(2)} would be a perfect rig)`);
    return true;
  } finally {
    await rt
      .store()
      .remove(ref)
      .catch(() => undefined);
    // the app and its user stay on the bench minions until the stack is reset; remove the user everywhere
    await rt
      .salt()
      .local({ fun: 'user.delete', arg: [`bench${tag}`], kwarg: { remove: true, force: true }, tgt: minions, timeout: 10 })
      .catch(() => undefined);
  }
}
