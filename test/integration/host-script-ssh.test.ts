import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { encodeCipherA } from '../../lib/crypto/cipher-a.js';
import type { Runtime } from '../../lib/runtime.js';
import { sshRunDeps } from '../../lib/scripts/script-deps.js';
import { hostScriptSshRun } from '../../lib/scripts/ssh-run-operation.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { addUser, canary, putScript, rand, removeObject, removeUser, scratchDir, writeScript } from '../support/host-script.js';
import { postJson, startServer } from '../support/server.js';
import { capturedLogs, stackEnv, stackRuntime } from '../support/stack.js';

const GUID = 'ssh-guid-1';
const SEED = 'abc12345';

describe('host-script/ssh-run against the stack sshd', () => {
  const env = stackEnv();
  const host = env['SSH_HOST']!;
  const port = env['SSH_PORT']!;
  const rootKey = readFileSync(env['SSH_KEY_FILE']!, 'utf8');
  const knownPrefix = `it-known-hosts/${rand()}/`;
  const user = `hsssh${rand()}`;
  const password = `Pw-${rand()}-'"$;x`;
  const keys: string[] = [];
  let uid: number;
  let rt: Runtime;
  let dir: string;
  const run = (items: unknown[]) =>
    runOperation(hostScriptSshRun(sshRunDeps(rt)), items, { logger: rt.logger, signal: new AbortController().signal, concurrency: 4 });
  const asUser = { target: host, port, runAs: user, guid: GUID, seed: SEED, password: encodeCipherA(GUID, SEED, password) };
  const asRoot = { target: host, port, runAs: 'root', privateKey: rootKey };

  beforeAll(() => {
    rt = stackRuntime({ SSH_KNOWN_HOSTS_PREFIX: knownPrefix });
    uid = addUser(user, password);
    dir = scratchDir('hs-ssh');
  });
  afterAll(async () => {
    removeUser(user);
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([...keys, `${knownPrefix}${host}:${port}`].map((k) => removeObject(rt, k)));
    const logs = capturedLogs.join('\n');
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(rootKey.split('\n')[1]!);
  });

  it('logs in with a {cipher_a} password, runs inline content as that user with literal args, and records the host key on first use', async () => {
    const trap = canary();
    const content = `echo "$#:$1:$2:$(id -un)"\nid -un > ${dir}/ssh-marker\npwd`;
    const args = `'a b;c' '$(touch ${trap.path})'`;
    const [first] = await run([{ ...asUser, endpointType: 'USER_PARAM', scriptContent: content, args, workDir: dir }]);
    expect(first).toMatchObject({ errorCode: '0', target: host, retCode: 0, hostKeyStatus: 'recorded', hostKeyFingerprint: env['SSH_HOST_KEY_FINGERPRINT'] });
    expect(first!['detail']).toBe(`2:a b;c:$(touch ${trap.path}):${user}\n${dir}`);
    expect(statSync(`${dir}/ssh-marker`).uid).toBe(uid);
    expect(trap.exists()).toBe(false);
    // the uploaded copy is gone from the user's home
    expect(readdirSync(`/home/${user}`).filter((f) => f.startsWith('.host-script-'))).toEqual([]);

    const [second] = await run([{ ...asUser, endpointType: 'USER_PARAM', scriptContent: 'echo again' }]);
    expect(second).toMatchObject({ errorCode: '0', detail: 'again', hostKeyStatus: 'known' });
  });

  it('logs in with a private key, sends an S3 script over SFTP, keeps its exit code, and runs LOCAL scripts in place', async () => {
    const key = `it-host-script-ssh/${rand()}/fail.py`;
    keys.push(key);
    const url = await putScript(rt, key, '#!/usr/bin/env python3\nimport sys\nprint("py", sys.argv[1:])\nsys.exit(6)\n');
    writeScript(`${dir}/local.sh`, '#!/bin/sh\necho "local $1 in $(pwd)"\n', 0o644);
    const [s3, local] = await run([
      { ...asRoot, endpointType: 'S3', endpoint: url, args: "'x y'", hostKeyFingerprint: env['SSH_HOST_KEY_FINGERPRINT'] },
      { ...asRoot, endpointType: 'LOCAL', endpoint: `${dir}/local.sh 'p q'` },
    ]);
    expect(s3).toMatchObject({ errorCode: '1', errorType: 'E_JOB_FAILED', retCode: 6, detail: "py ['x y']", hostKeyStatus: 'pinned' });
    expect(local).toMatchObject({ errorCode: '0', retCode: 0, detail: `local p q in ${dir}` });
    expect(readdirSync('/root').filter((f) => f.startsWith('.host-script-'))).toEqual([]);
  });

  it('kills a script at its timeout with 124', async () => {
    const [out] = await run([{ ...asRoot, endpointType: 'USER_PARAM', scriptContent: `echo started\nsleep 30\ntouch ${dir}/late`, timeout: 2 }]);
    expect(out).toMatchObject({ errorCode: '1', retCode: 124 });
    expect(out!['detail']).toContain('started');
    expect(existsSync(`${dir}/late`)).toBe(false);
  });

  it('refuses a wrong pinned key, a wrong password and a closed port, each with its own error', async () => {
    const trap = canary();
    const outputs = await run([
      { ...asRoot, endpointType: 'USER_PARAM', scriptContent: `touch ${trap.path}`, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` },
      { ...asUser, password: 'wrong-password', endpointType: 'USER_PARAM', scriptContent: `touch ${trap.path}` },
      { ...asRoot, port: '1', endpointType: 'USER_PARAM', scriptContent: `touch ${trap.path}` },
      { ...asRoot, endpointType: 'LOCAL', endpoint: `${dir}/local.sh;touch ${trap.path}` },
    ]);
    expect(outputs.map((o) => o['errorType'])).toEqual(['E_HOST_KEY', 'E_INPUT', 'E_NO_RETURN', 'E_INPUT']);
    expect(outputs[0]!['errorMessage']).toContain(`is ${env['SSH_HOST_KEY_FINGERPRINT']}, not the expected`);
    expect(outputs[1]!['errorMessage']).toContain(`SSH login as ${user} to ${host}:${port} was refused`);
    expect(outputs[2]!['errorMessage']).toMatch(/^Cannot connect to target 127\.0\.0\.1\. SSH to 127\.0\.0\.1:1 failed: ECONNREFUSED/);
    expect(trap.exists()).toBe(false);
  });

  it('works over HTTP at the legacy alias without the password reaching the server output', async () => {
    const server = await startServer({ AUTH_MODE: 'off', SSH_KNOWN_HOSTS_PREFIX: knownPrefix });
    try {
      const { body } = await postJson(`${server.url}/v1/deploy/script/ssh-run`, {
        inputs: [
          { ...asUser, endpointType: 'USER_PARAM', scriptContent: 'id -un' },
          { ...asUser, password, endpointType: 'USER_PARAM', scriptContent: 'echo plain' },
          { ...asUser, password: `${password}x`, endpointType: 'USER_PARAM', scriptContent: 'true' },
        ],
      });
      expect(body['results'].outputs.map((o: Record<string, unknown>) => [o['errorCode'], o['detail']])).toEqual([
        ['0', user],
        ['0', 'plain'],
        ['1', ''],
      ]);
    } finally {
      await server.stop();
    }
    expect(server.output()).not.toContain(password);
  });
});
