/** The fixed bash scripts of a deployment, run for real with bash in a temp directory (argv as salt gets it). */
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInstallDir, type InstallDir } from '../../../lib/deploy/deploy-plan.js';
import { commitStep, restoreCall, snapshotStep } from '../../../lib/deploy/install-steps.js';

const base = mkdtempSync(join(tmpdir(), 'deploy-steps-unit-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

let dir: InstallDir;
let n = 0;
beforeEach(() => {
  dir = parseInstallDir(join(base, `case${++n}`, 'app'));
  mkdirSync(join(base, `case${n}`));
});

type Argv = [string, ...string[]];

/** The argv salt's cmd.run_all gets (python_shell false: no shell in between). */
function snapshotArgv(d: InstallDir, clear: string[]): Argv {
  const step = snapshotStep(d, clear);
  expect(step).toMatchObject({ id: 'snapshot', state: 'module.run' });
  const [{ cmd }, ...kwargs] = step.args['cmd.run_all'] as [{ cmd: Argv }, ...object[]];
  expect(kwargs).toEqual([{ python_shell: false }, { timeout: 600 }]);
  return cmd;
}

function restoreArgv(d: InstallDir): Argv {
  const call = restoreCall(d);
  expect(call.kwarg).toEqual({ python_shell: false, timeout: 600 });
  return (call.arg as [Argv])[0];
}

function run(argv: Argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under `root`: files as their content, directories as '<dir>', symlinks as '-> target'. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, path));
      if (st.isSymbolicLink()) out[path] = '-> link';
      else if (st.isDirectory()) {
        out[path] = '<dir>';
        walk(path);
      } else out[path] = readFileSync(join(root, path), 'utf8');
    }
  };
  walk('');
  return out;
}

function install(files: Record<string, string>) {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir.path, rel, '..'), { recursive: true });
    writeFileSync(join(dir.path, rel), content);
  }
}

const v1 = { 'bin/start.sh': 'start v1', 'conf/app.properties': 'version=1', 'logs/app.log': 'old log', 'logs/old/x.log': 'x', 'cache/c.bin': 'cached' };

describe('snapshot and clear (first state of a distribution)', () => {
  it('keeps the existing install as a hard-link tree next to it', () => {
    install(v1);
    const r = run(snapshotArgv(dir, []));
    expect(r).toMatchObject({ code: 0, stdout: `snapshot of ${dir.path} kept as ${dir.snapshot}\n` });
    expect(tree(dir.snapshot)).toEqual(tree(dir.path));
    for (const rel of Object.keys(v1)) {
      const [a, b] = [statSync(join(dir.path, rel)), statSync(join(dir.snapshot, rel))];
      expect([rel, b.ino, b.nlink]).toEqual([rel, a.ino, 2]);
    }
    // directories are the snapshot's own (a merge into the install does not touch them)
    expect(statSync(join(dir.snapshot, 'conf')).ino).not.toBe(statSync(join(dir.path, 'conf')).ino);
    expect(existsSync(`${dir.snapshot}.partial`)).toBe(false);
  });

  it('records a missing install as an empty regular file', () => {
    const r = run(snapshotArgv(dir, ['logs/', 'cache']));
    expect(r).toMatchObject({
      code: 0,
      stdout: `no previous install at ${dir.path}\nnothing to clear at ${dir.path}/logs/\nnothing to clear at ${dir.path}/cache\n`,
    });
    expect(lstatSync(dir.snapshot).isFile()).toBe(true);
    expect(statSync(dir.snapshot).size).toBe(0);
    expect(existsSync(dir.path)).toBe(false);
  });

  it('replaces a stale snapshot of an earlier deployment', () => {
    install(v1);
    mkdirSync(join(dir.snapshot, 'stale'), { recursive: true });
    writeFileSync(`${dir.snapshot}.partial`, 'left by a killed run');
    expect(run(snapshotArgv(dir, [])).code).toBe(0);
    expect(tree(dir.snapshot)).toEqual(tree(dir.path));
    expect(existsSync(`${dir.snapshot}.partial`)).toBe(false);
  });

  it('refuses an install path that is not a directory (exit 2)', () => {
    writeFileSync(dir.path, 'a file');
    const r = run(snapshotArgv(dir, []));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${dir.path} exists and is not a directory\n`);
  });

  it('clears `logs/` (its contents, keeping the directory) and `cache` (the entry); the snapshot keeps them', () => {
    install({ ...v1, 'logs/.hidden': 'h' });
    const r = run(snapshotArgv(dir, ['logs/', 'cache', 'not/there', 'nothing/']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`emptied ${dir.path}/logs/\n`);
    expect(r.stdout).toContain(`removed ${dir.path}/cache\n`);
    expect(r.stdout).toContain(`nothing to clear at ${dir.path}/not/there\n`);
    expect(r.stdout).toContain(`nothing to clear at ${dir.path}/nothing/\n`);
    expect(tree(dir.path)).toEqual({ bin: '<dir>', 'bin/start.sh': 'start v1', conf: '<dir>', 'conf/app.properties': 'version=1', logs: '<dir>' });
    expect(tree(dir.snapshot)).toMatchObject({ 'logs/app.log': 'old log', 'logs/.hidden': 'h', 'logs/old/x.log': 'x', 'cache/c.bin': 'cached' });
  });

  it('takes shell characters in a clear path literally (argv, no shell)', () => {
    const canary = join(base, `canary${n}`);
    const odd = `odd;$(touch ${canary})\`touch ${canary}\`'"`;
    install({ ...v1, [`${odd}/f`]: 'odd' });
    const r = run(snapshotArgv(dir, [odd]));
    expect(r.code).toBe(0);
    expect(existsSync(join(dir.path, odd))).toBe(false);
    expect(existsSync(canary)).toBe(false);
  });

  it('refuses a clear path that leaves the install through a symlink (exit 3), deleting nothing outside', () => {
    const outside = join(base, `outside${n}`);
    mkdirSync(join(outside, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'precious'), 'keep');
    writeFileSync(join(outside, 'sub', 'precious'), 'keep');
    install(v1);
    symlinkSync(outside, join(dir.path, 'data'));
    for (const clear of ['data/', 'data/sub', 'data/sub/', 'data/precious']) {
      const r = run(snapshotArgv(dir, [clear]));
      expect([clear, r.code, r.stderr]).toEqual([clear, 3, `clearPath ${clear} leaves ${dir.path}\n`]);
    }
    expect(tree(outside)).toEqual({ precious: 'keep', sub: '<dir>', 'sub/precious': 'keep' });
    // the link itself (no trailing /) is an entry of the install: it is removed, not what it points to
    expect(run(snapshotArgv(dir, ['data'])).code).toBe(0);
    expect(existsSync(join(dir.path, 'data'))).toBe(false);
    expect(tree(outside)).toEqual({ precious: 'keep', sub: '<dir>', 'sub/precious': 'keep' });
  });

  it('stops at the first refused clear path, after the snapshot was taken', () => {
    install(v1);
    symlinkSync('/', join(dir.path, 'root'));
    const r = run(snapshotArgv(dir, ['cache', 'root/', 'logs/']));
    expect(r.code).toBe(3);
    expect(existsSync(join(dir.path, 'cache'))).toBe(false);
    expect(readFileSync(join(dir.path, 'logs/app.log'), 'utf8')).toBe('old log');
    expect(tree(dir.snapshot)).toMatchObject({ 'cache/c.bin': 'cached' });
  });
});

describe('restore', () => {
  it('puts the previous tree back after a new version replaced, added and cleared files', () => {
    install(v1);
    const before = tree(dir.path);
    expect(run(snapshotArgv(dir, ['logs/', 'cache'])).code).toBe(0);
    // what the package merge does: unlink, then write (cp --remove-destination)
    unlinkSync(join(dir.path, 'conf/app.properties'));
    writeFileSync(join(dir.path, 'conf/app.properties'), 'version=2');
    install({ 'lib/new.jar': 'new' });
    const r = run(restoreArgv(dir));
    expect(r).toMatchObject({ code: 0, stdout: `restored ${dir.path} from its snapshot\n` });
    expect(tree(dir.path)).toEqual(before);
    expect(existsSync(dir.snapshot)).toBe(false);
  });

  it('removes the directory when there was no install before', () => {
    expect(run(snapshotArgv(dir, [])).code).toBe(0);
    install({ 'bin/start.sh': 'start v1' });
    const r = run(restoreArgv(dir));
    expect(r).toMatchObject({ code: 0, stdout: `removed ${dir.path} (there was no previous install)\n` });
    expect(existsSync(dir.path)).toBe(false);
    expect(existsSync(dir.snapshot)).toBe(false);
  });

  it('does nothing without a snapshot (the distribution never reached the files)', () => {
    install(v1);
    const before = tree(dir.path);
    const r = run(restoreArgv(dir));
    expect(r).toMatchObject({ code: 0, stdout: `no snapshot: ${dir.path} was not changed\n` });
    expect(tree(dir.path)).toEqual(before);
  });

  it('restores an install directory with spaces and shell characters in its name literally', () => {
    dir = parseInstallDir(join(base, `case${n}`, 'my app @1'));
    install(v1);
    const before = tree(dir.path);
    expect(run(snapshotArgv(dir, ['cache'])).code).toBe(0);
    expect(existsSync(join(dir.path, 'cache'))).toBe(false);
    expect(run(restoreArgv(dir)).code).toBe(0);
    expect(tree(dir.path)).toEqual(before);
  });
});

describe('commit', () => {
  it('drops the snapshot with file.absent', () => {
    expect(commitStep(dir)).toEqual({ id: 'drop snapshot', state: 'file.absent', args: { name: dir.snapshot } });
  });
});
