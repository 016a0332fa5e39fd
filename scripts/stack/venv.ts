/**
 * The project-local Python venv with salt and CherryPy from PyPI (salt-api's rest_cherrypy needs CherryPy in
 * the same venv, and pip does not pull it in). The install runs in the background while the other services
 * start; a marker file records what was installed, so a change of pins reinstalls.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HERE, StackError, say } from './context.js';
import { run, tail } from './proc.js';
import { aptInstall, which } from './system-packages.js';

export const SALT_VERSION = '3007.8';
export const CHERRYPY_VERSION = '18.10.0';
const REQUIREMENTS = join(HERE, 'salt-requirements.txt');

function marker(): string {
  const digest = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 16);
  return `salt==${SALT_VERSION} CherryPy==${CHERRYPY_VERSION} reqs=${digest}\n`;
}

const markerFile = (venv: string) => join(venv, '.stack-pins');
export const venvReady = (venv: string) =>
  existsSync(join(venv, 'bin', 'salt-master')) && existsSync(markerFile(venv)) && readFileSync(markerFile(venv), 'utf8') === marker();

async function python311(log: string): Promise<string> {
  const probe = async () => {
    for (const candidate of ['python3.11', 'python3', '/usr/bin/python3.11', '/usr/bin/python3']) {
      const path = candidate.startsWith('/') ? (existsSync(candidate) ? candidate : undefined) : which(candidate);
      if (!path) continue;
      const r = await run(path, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])']);
      if (r.code === 0 && r.stdout.trim() === '3.11') return path;
    }
    return undefined;
  };
  const found = await probe();
  if (found) return found;
  say("python: no Python 3.11 with venv found; installing Debian's python3-venv");
  await aptInstall(['python3', 'python3-venv', 'python3-dev', 'gcc'], log);
  const again = await probe();
  if (!again) throw new StackError(`no usable Python 3.11 (salt ${SALT_VERSION}'s pinned dependencies are for 3.11)`);
  return again;
}

/** Starts installing the venv when it is missing or stale; the promise settles when it is usable. */
export function startVenv(venv: string, logDir: string, shared = Boolean(process.env['STACK_VENV'])): { done: Promise<void>; cancel: () => void } {
  if (venvReady(venv)) return { done: Promise.resolve(), cancel: () => {} };
  if (shared) {
    const done = Promise.reject(new StackError(`STACK_VENV=${venv} is not a ready stack venv (salt==${SALT_VERSION}): run up in its own stack first`));
    done.catch(() => {}); // awaited by the caller
    return { done, cancel: () => {} };
  }
  const log = join(logDir, 'venv.log');
  let child: ReturnType<typeof spawn> | undefined;
  const done = (async () => {
    const py = await python311(join(logDir, 'apt.log'));
    say(`venv: installing salt==${SALT_VERSION} CherryPy==${CHERRYPY_VERSION} into ${venv} (background, log: ${log})`);
    const pyBin = join(venv, 'bin', 'python');
    if (!existsSync(pyBin) || (await run(pyBin, ['-c', 'import sys'])).code !== 0) {
      rmSync(venv, { recursive: true, force: true });
      const made = await run(py, ['-m', 'venv', venv], { log });
      if (made.code !== 0) throw new StackError(`python -m venv ${venv} failed (see ${log})`);
    }
    rmSync(markerFile(venv), { force: true });
    const fd = openSync(log, 'a');
    const code = await new Promise<number>((resolve) => {
      child = spawn(
        pyBin,
        [
          '-m',
          'pip',
          'install',
          '-q',
          '--disable-pip-version-check',
          '--no-input',
          `salt==${SALT_VERSION}`,
          `CherryPy==${CHERRYPY_VERSION}`,
          '-r',
          REQUIREMENTS,
        ],
        {
          stdio: ['ignore', fd, fd],
          detached: true,
        },
      );
      child.once('error', () => resolve(127));
      child.once('exit', (c) => resolve(c ?? 1));
    });
    closeSync(fd);
    child = undefined;
    if (code !== 0) throw new StackError(`pip install of salt failed (see ${log}):\n${tail(log, 30)}`);
    const check = await run(pyBin, ['-c', 'import salt.version, tornado, zmq, cherrypy'], { log });
    if (check.code !== 0) throw new StackError(`the venv cannot import salt's dependencies (see ${log})`);
    writeFileSync(markerFile(venv), marker());
    say('venv: ready');
  })();
  done.catch(() => {}); // awaited by the caller; this keeps an early failure elsewhere from being unhandled
  return {
    done,
    cancel: () => {
      if (child?.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
    },
  };
}
