import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { remoteScriptCommand } from '../../../lib/ssh/remote-command.js';

/** Runs a command line the way sshd does: the login shell's `-c`. */
const viaShell = (line: string) => {
  try {
    return { code: 0, out: execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
};

describe('remoteScriptCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'remote cmd '));
  const script = join(dir, 'args.sh');
  writeFileSync(script, '#!/bin/sh\npwd\nfor a in "$@"; do printf "[%s]\\n" "$a"; done\nexit 4\n');
  chmodSync(script, 0o600);

  it('runs the script in its directory with every argument literal, keeping the exit code', () => {
    const canary = join(dir, 'canary');
    const args = [`$(touch '${canary}')`, `\`touch '${canary}'\``, "it's", 'a;b', 'new\nline', ''];
    const { code, out } = viaShell(remoteScriptCommand({ path: script, args, cwd: dir, timeoutS: 30 }));
    expect(code).toBe(4);
    expect(out).toBe(`${dir}\n${args.map((a) => `[${a}]\n`).join('')}`);
    expect(existsSync(canary)).toBe(false);
  });

  it('kills a script that outlives its timeout with exit code 124', () => {
    const slow = join(dir, 'slow.sh');
    writeFileSync(slow, '#!/bin/sh\nsleep 20\n');
    const t0 = Date.now();
    expect(viaShell(remoteScriptCommand({ path: slow, args: [], cwd: '/', timeoutS: 1 })).code).toBe(124);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('fails with 126 when the directory does not exist', () => {
    expect(viaShell(remoteScriptCommand({ path: script, args: [], cwd: join(dir, 'nope'), timeoutS: 5 })).code).toBe(126);
  });
});
