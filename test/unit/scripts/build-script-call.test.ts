import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEndpoint } from '../../../lib/artifacts/parse-endpoint.js';
import { argsFormFor, buildScriptCall, LOCAL_LAUNCHER } from '../../../lib/scripts/build-script-call.js';
import type { ScriptStep } from '../../../lib/scripts/plan-scripts.js';

const s3Step = (args: string[]): ScriptStep => ({
  label: 'u',
  source: { kind: 's3', ref: parseEndpoint('http://s3:9000/b/dir/deploy.py') },
  args,
  cwd: '/opt/app',
});

describe('argsFormFor', () => {
  it.each([
    ['3006.9', 'string'],
    ['3007.6', 'string'],
    ['3007.7', 'list'],
    ['3007.8', 'list'],
    ['3008.0', 'list'],
    ['2019.2.0', 'string'],
    ['3000.3', 'string'],
    ['garbage', 'string'],
  ])('salt %s takes cmd.script args as a %s', (version, form) => {
    expect(argsFormFor(version)).toBe(form);
  });
});

describe('buildScriptCall', () => {
  it('runs a LOCAL script through cmd.run_all with an argv list and no shell parsing of input', () => {
    const call = buildScriptCall(
      { label: 'x', source: { kind: 'local', path: '/opt/a b/start.sh' }, args: ['$(id)', 'a;b'], cwd: '/opt/a b' },
      { runAs: 'app', timeoutS: 30 },
    );
    expect(call).toEqual({
      fun: 'cmd.run_all',
      kwarg: {
        cmd: ['/bin/sh', '-c', LOCAL_LAUNCHER, 'host-script', '/opt/a b/start.sh', '$(id)', 'a;b'],
        runas: 'app',
        timeout: 30,
        python_shell: false,
        cwd: '/opt/a b',
      },
    });
  });

  it('gives cmd.script the presigned URL with a short extension fragment, args as a list for new salt', () => {
    const call = buildScriptCall(s3Step(['a b', "it's"]), {
      runAs: 'root',
      timeoutS: 5,
      sourceUrl: 'http://s3/b/dir/deploy.py?X-Amz-Signature=1',
      argsForm: 'list',
    });
    expect(call.fun).toBe('cmd.script');
    expect(call.kwarg).toEqual({
      source: 'http://s3/b/dir/deploy.py?X-Amz-Signature=1#script.py',
      args: ['a b', "it's"],
      runas: 'root',
      timeout: 5,
      python_shell: false,
      cwd: '/opt/app',
    });
  });

  it('gives old salt one POSIX-quoted args string, and no args at all when there are none', () => {
    const call = buildScriptCall(s3Step(['a b', "it's"]), { runAs: 'root', timeoutS: 5, sourceUrl: 'http://u', argsForm: 'string' });
    expect(call.kwarg!['args']).toBe(`'a b' 'it'"'"'s'`);
    expect(buildScriptCall(s3Step([]), { runAs: 'root', timeoutS: 5, sourceUrl: 'http://u', argsForm: 'list' }).kwarg).not.toHaveProperty('args');
  });

  it("sends no runas for the minion's own user (salt would su - and start a Python interpreter per job)", () => {
    const call = buildScriptCall(s3Step([]), { runAs: undefined, timeoutS: 5, sourceUrl: 'http://u', argsForm: 'list' });
    expect(call.kwarg).not.toHaveProperty('runas');
    expect(call.kwarg).toMatchObject({ python_shell: false, timeout: 5 });
  });

  it('refuses an S3 step without its URL', () => {
    expect(() => buildScriptCall(s3Step([]), { runAs: 'root', timeoutS: 5 })).toThrow('source URL');
  });
});

describe('LOCAL_LAUNCHER (run by a real /bin/sh)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  const run = (path: string, ...args: string[]) => {
    try {
      return { code: 0, out: execFileSync('/bin/sh', ['-c', LOCAL_LAUNCHER, 'host-script', path, ...args], { encoding: 'utf8', stdio: 'pipe' }) };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { code: e.status, out: e.stdout + e.stderr };
    }
  };

  it('passes arguments literally and keeps the script exit code', () => {
    const script = join(dir, 'echo.sh');
    writeFileSync(script, '#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a"; done\nexit 7\n');
    chmodSync(script, 0o755);
    const canary = join(dir, 'canary');
    expect(run(script, `$(touch ${canary})`, 'a b', '`id`')).toEqual({ code: 7, out: `[$(touch ${canary})][a b][\`id\`]` });
    expect(() => execFileSync('test', ['-e', canary])).toThrow();
  });

  it('makes a script executable first, then lets its #! line choose the interpreter', () => {
    const script = join(dir, 'py');
    writeFileSync(script, '#!/usr/bin/env node\nconsole.log(process.argv.length)\n');
    chmodSync(script, 0o644);
    expect(run(script, 'x')).toEqual({ code: 0, out: '3\n' });
  });

  it('says when the script does not exist (127)', () => {
    expect(run(join(dir, 'missing.sh'))).toEqual({ code: 127, out: `host-script: ${join(dir, 'missing.sh')}: no such file\n` });
  });
});
