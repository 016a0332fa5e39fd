import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Runtime } from '../../lib/runtime.js';
import { hostScriptRun, type ScriptAction } from '../../lib/scripts/host-script-run-operation.js';
import { hostScriptDeps } from '../../lib/scripts/script-deps.js';
import { runOperation } from '../../lib/wecube/run-operation.js';
import { addUser, canary, putScript, rand, removeObject, removeUser, scratchDir, userExists, writeScript } from '../support/host-script.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { stackMinions, stackRuntime } from '../support/stack.js';

const ARGV_SCRIPT = [
  '#!/bin/sh',
  'for a in "$@"; do printf "[%s]\\n" "$a"; done',
  'echo "user=$(id -un) cwd=$(pwd)"',
  'echo "to stderr" >&2',
  'id -un > ./marker',
].join('\n');

describe('host-script/run* through salt against the stack minions', () => {
  let rt: Runtime;
  let dir: string;
  let user: string;
  let uid: number;
  const keys: string[] = [];
  const prefix = `it-host-script/${rand()}`;
  const [m1, m2] = stackMinions() as [string, string];
  const ghost = '10.255.255.251';
  const run = (action: ScriptAction, items: unknown[]) =>
    runOperation(hostScriptRun(hostScriptDeps(rt), action), items, { logger: rt.logger, signal: new AbortController().signal, concurrency: 5 });
  const s3 = async (name: string, body: string) => {
    keys.push(`${prefix}/${name}`);
    return putScript(rt, `${prefix}/${name}`, body);
  };

  beforeAll(() => {
    rt = stackRuntime();
    dir = scratchDir('hs-it');
    user = `hsit${rand()}`;
    uid = addUser(user);
    writeScript(`${dir}/argv.sh`, ARGV_SCRIPT);
  });
  afterAll(async () => {
    removeUser(user);
    rmSync(dir, { recursive: true, force: true });
    await Promise.all(keys.map((k) => removeObject(rt, k)));
  });

  it('runs a LOCAL script as the runAs user in its own directory, every argument literal, with effects on the host', async () => {
    const trap = canary();
    const args = `'a;b' "c d" '$(touch ${trap.path})' '\`touch ${trap.path}\`' "it's" 'new\nline' \\$HOME`;
    const [out] = await run('run', [{ guid: 'g1', endpointType: 'LOCAL', endpoint: `${dir}/argv.sh 'first arg'`, target: m1, runAs: user, args }]);
    expect(out).toMatchObject({ guid: 'g1', target: m1, retCode: 0, errorCode: '0', errorMessage: '' });
    expect(out!['detail']).toBe(
      [
        '[first arg]',
        '[a;b]',
        '[c d]',
        `[$(touch ${trap.path})]`,
        `[\`touch ${trap.path}\`]`,
        "[it's]",
        '[new',
        'line]',
        '[$HOME]',
        `user=${user} cwd=${dir}`,
        'to stderr',
      ].join('\n'),
    );
    expect(readFileSync(`${dir}/marker`, 'utf8')).toBe(`${user}\n`);
    expect(statSync(`${dir}/marker`).uid).toBe(uid);
    expect(trap.exists()).toBe(false);
  });

  it('runs S3 and inline scripts with args and workDir, respecting the #! line, and returns real exit codes', async () => {
    const trap = canary();
    const py = await s3('argv.py', '#!/usr/bin/env python3\nimport json, os, sys\nprint(json.dumps([sys.argv[1:], os.getcwd()]))\nsys.exit(3)\n');
    const work = scratchDir('hs-it-work');
    const [s3Out, inline] = await run('run', [
      { guid: 's3', endpointType: 'S3', endpoint: py, target: m2, runAs: user, workDir: work, args: `'x y' '$(touch ${trap.path})' ";|&"` },
      {
        guid: 'inline',
        endpointType: 'USER_PARAM',
        scriptContent: 'echo "$#:$1:$2"\nid -un > ./marker\nexit 0',
        target: m2,
        runAs: user,
        workDir: work,
        args: `'one two' '\`touch ${trap.path}\`'`,
      },
    ]);
    expect(s3Out).toMatchObject({ target: m2, retCode: 3, errorCode: '1', errorType: 'E_JOB_FAILED' });
    expect(JSON.parse(String(s3Out!['detail']))).toEqual([['x y', `$(touch ${trap.path})`, ';|&'], work]);
    expect(s3Out!['errorMessage']).toContain(`retCode=3 on target ${m2}`);
    expect([inline!['errorMessage'], inline!['detail']]).toEqual(['', `2:one two:\`touch ${trap.path}\``]);
    expect(inline).toMatchObject({ retCode: 0, errorCode: '0' });
    expect(statSync(`${work}/marker`).uid).toBe(uid);
    // salt's temporary copy of the script (made in the working directory) is gone
    expect(readdirSync(work)).toEqual(['marker']);
    expect(trap.exists()).toBe(false);
    rmSync(work, { recursive: true, force: true });
  });

  it('kills a script at its timeout (124), and stops an item at its first failing script', async () => {
    writeScript(`${dir}/ok.sh`, '#!/bin/sh\necho ok\n');
    writeScript(`${dir}/fail.sh`, '#!/bin/sh\necho failing\nexit 5\n');
    writeScript(`${dir}/never.sh`, '#!/bin/sh\ntouch ./never-ran\n');
    const t0 = Date.now();
    const [slow, chain] = await run('run', [
      { guid: 'slow', endpointType: 'USER_PARAM', scriptContent: `sleep 30\ntouch ${dir}/after-sleep`, target: m1, runAs: 'root', timeout: 2 },
      { guid: 'chain', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh|${dir}/fail.sh|${dir}/never.sh`, target: m1, runAs: 'root' },
    ]);
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(slow).toMatchObject({ retCode: 124, errorCode: '1', errorType: 'E_JOB_FAILED' });
    expect(slow!['errorMessage']).toContain('killed after its 2 s timeout');
    expect(chain).toMatchObject({ retCode: 5, errorCode: '1', detail: 'script 1 result: ok | script 2 result: failing' });
    expect(existsSync(`${dir}/never-ran`)).toBe(false);
    expect(existsSync(`${dir}/after-sleep`)).toBe(false);
  });

  it('runs the same script on both minions and reports an unknown host alone, in input order', async () => {
    const url = await s3('append.sh', `#!/bin/sh\necho "$1 from $(id -un)" >> ${dir}/multi.log\necho done\n`);
    const items = [m1, ghost, m2].map((target, i) => ({ guid: `m${i}`, endpointType: 'S3', endpoint: url, target, runAs: 'root', args: 'hello' }));
    const outputs = await run('run-s3', items);
    expect(outputs.map((o) => [o['guid'], o['target'], o['errorCode']])).toEqual([
      ['m0', m1, '0'],
      ['m1', ghost, '1'],
      ['m2', m2, '0'],
    ]);
    expect(outputs[1]).toMatchObject({ errorType: 'E_NO_RETURN', retCode: 1 });
    expect(outputs[1]!['errorMessage']).toMatch(new RegExp(`^Cannot connect to target ${ghost.replace(/\./g, '\\.')}\\. .*did not return`));
    expect(outputs[0]!['detail']).toBe('done');
    expect(readFileSync(`${dir}/multi.log`, 'utf8')).toBe('hello from root\nhello from root\n');
  });

  it('refuses injected paths, users and workDirs per item before anything runs, and names a missing user', async () => {
    const trap = canary();
    const outputs = await run('run', [
      { guid: 'path', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh; touch ${trap.path}`, target: m1, runAs: 'root' },
      { guid: 'subst', endpointType: 'LOCAL', endpoint: `${dir}/$(touch ${trap.path}).sh`, target: m1, runAs: 'root' },
      { guid: 'user', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh`, target: m1, runAs: `root;touch ${trap.path}` },
      { guid: 'workdir', endpointType: 'USER_PARAM', scriptContent: 'true', target: m1, runAs: 'root', workDir: `/tmp/\`touch ${trap.path}\`` },
      { guid: 'args', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh`, target: m1, runAs: 'root', args: `x && touch ${trap.path}` },
      { guid: 'target', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh`, target: `${m1};touch ${trap.path}`, runAs: 'root' },
      { guid: 'nouser', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh`, target: m1, runAs: 'nosuchuser42' },
      { guid: 'good', endpointType: 'LOCAL', endpoint: `${dir}/ok.sh`, target: m1, runAs: 'root' },
    ]);
    const byGuid = Object.fromEntries(outputs.map((o) => [o['guid'], o]));
    for (const [guid, field] of [
      ['path', 'endpoint'],
      ['subst', 'endpoint'],
      ['user', 'runAs'],
      ['workdir', 'workDir'],
      ['args', 'args'],
      ['target', 'target'],
    ]) {
      expect([guid, byGuid[guid!]!['errorType'], byGuid[guid!]!['errorMessage']]).toEqual([
        guid,
        'E_INPUT',
        expect.stringContaining(`Parameter ${field} validation failed`),
      ]);
    }
    expect(byGuid['nouser']).toMatchObject({ errorCode: '1', detail: 'user nosuchuser42 not exist' });
    expect(byGuid['good']).toMatchObject({ errorCode: '0', detail: 'ok' });
    expect(trap.exists()).toBe(false);
  });

  describe('over HTTP', () => {
    let server: RunningServer;
    let createdApp = false;
    const scriptsDir = '/data/app/scripts';
    let createdDir = false;
    beforeAll(async () => {
      server = await startServer({ AUTH_MODE: 'off' });
      if (!userExists('app')) {
        addUser('app');
        createdApp = true;
      }
      createdDir = !existsSync(scriptsDir);
      mkdirSync(scriptsDir, { recursive: true });
      writeScript(`${scriptsDir}/test.sh`, '#!/bin/sh\nid -un\n');
    });
    afterAll(async () => {
      await server.stop();
      rmSync(`${scriptsDir}/test.sh`, { force: true });
      if (createdDir) rmSync('/data/app', { recursive: true, force: true });
      if (createdApp) removeUser('app');
    });

    it('runs the old API guide example at /v1/deploy/script/run with its exact JSON', async () => {
      const body =
        '{\n  "inputs":[{\n        "guid":"10004_000000001",\n        "endpointType":"LOCAL",\n        "endpoint":"/data/app/scripts/test.sh",\n        "target":"127.0.0.1",\n        "runAs":"app",\n        "args":""\n    }]\n}';
      const { status, body: res } = await postJson(`${server.url}/v1/deploy/script/run`, body);
      expect(status).toBe(200);
      expect(res).toEqual({
        resultCode: '0',
        resultMessage: 'success',
        results: { outputs: [{ guid: '10004_000000001', target: '127.0.0.1', retCode: 0, detail: 'app', errorCode: '0', errorMessage: '' }] },
      });
    });

    it('takes endpointType from the action at /saltstack/v1/host-script/run-user-param', async () => {
      const { body } = await postJson(`${server.url}/saltstack/v1/host-script/run-user-param`, {
        inputs: [{ guid: 'u', target: m2, runAs: 'root', scriptContent: 'echo "$1"', args: "'via http'", callbackParameter: 'cb' }],
      });
      expect(body['results'].outputs).toEqual([
        { guid: 'u', callbackParameter: 'cb', target: m2, retCode: 0, detail: 'via http', errorCode: '0', errorMessage: '' },
      ]);
    });
  });
});
