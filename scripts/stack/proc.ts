/**
 * Processes of the local stack: pidfiles, liveness, stopping (TERM, then KILL), leftovers of a dead daemon,
 * detached starts, and polling. Every process is found by its pidfile AND its command line, so that a
 * recycled pid is never taken for one of ours.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { StackError, say } from './context.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True when pid exists and is not a zombie (a zombie leader with live threads still holds its ports). */
export function running(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state !== 'Z' && state !== 'X') return true;
  try {
    return readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** The pid in `pidfile` when that process is alive and its command line contains `pattern`. */
export function livePid(pidfile: string, pattern: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidfile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim().split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !running(pid)) return undefined;
  return commandLine(pid)?.includes(pattern) ? pid : undefined;
}

function processTable(): Array<{ pid: number; ppid: number; args: string }> {
  const rows: Array<{ pid: number; ppid: number; args: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      rows.push({ pid, ppid, args: commandLine(pid) ?? '' });
    } catch {
      // gone meanwhile
    }
  }
  return rows;
}

/** Every descendant of pid (children, grandchildren, ...). */
export function descendants(root: number): number[] {
  const table = processTable();
  const seen = new Set([root]);
  for (let more = true; more; ) {
    more = false;
    for (const { pid, ppid } of table) {
      if (!seen.has(pid) && seen.has(ppid)) {
        seen.add(pid);
        more = true;
      }
    }
  }
  seen.delete(root);
  return [...seen];
}

const kill = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
};

async function awaitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(running);
  while (left.length && Date.now() < deadline) {
    await sleep(200);
    left = left.filter(running);
  }
  return left;
}

/** Pids this run stopped: `down` waits until they are gone from the process table. */
export const stopped: number[] = [];

export interface Stoppable {
  name: string;
  pidfile: string;
  pattern: string;
}

/**
 * Stops every listed process that is alive, all at once: SIGTERM, up to 10 s, then SIGKILL; their
 * descendants are waited for (and killed) too. Idempotent; stale pidfiles are removed.
 */
export async function stopAll(targets: Stoppable[]): Promise<void> {
  const pids: number[] = [];
  const kids: number[] = [];
  for (const t of targets) {
    const pid = livePid(t.pidfile, t.pattern);
    if (pid === undefined) {
      rmSync(t.pidfile, { force: true });
      continue;
    }
    kids.push(...descendants(pid));
    say(`${t.name}: stopping (pid ${pid})`);
    kill(pid, 'SIGTERM');
    pids.push(pid);
    rmSync(t.pidfile, { force: true });
  }
  if (!pids.length) return;
  const left = await awaitGone(pids, 10_000);
  if (left.length) {
    say(`still running after 10 s, SIGKILL: ${left.join(' ')}`);
    for (const pid of [...left, ...kids]) kill(pid, 'SIGKILL');
  }
  for (const pid of await awaitGone(kids, 5_000)) kill(pid, 'SIGKILL');
  stopped.push(...pids, ...kids);
}

/**
 * After a daemon's main process died without its children (kill -9, crash), they keep its ports: they are
 * found by a command-line fragment naming this stack's own files, and stopped.
 */
export async function reapOrphans(name: string, fragment: string): Promise<void> {
  const pids = processTable()
    .filter((p) => p.pid !== process.pid && p.args.includes(fragment))
    .map((p) => p.pid);
  if (!pids.length) return;
  say(`${name}: stopping leftover processes of a dead ${name}: ${pids.join(' ')}`);
  for (const pid of pids) kill(pid, 'SIGTERM');
  for (const pid of await awaitGone(pids, 10_000)) kill(pid, 'SIGKILL');
  stopped.push(...pids);
}

/** Waits (up to 5 s) until the stopped processes are gone (some init processes reap orphans slowly). */
export async function awaitReaped(): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (stopped.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) await sleep(200);
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(2_000);
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** True when this process could listen on 127.0.0.1:port now. */
export function portBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel says is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Fails unless port is free (a process just stopped may hold it for a moment: up to 5 s). */
export async function requirePortFree(name: string, port: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (await portOpen(port)) {
    if (Date.now() >= deadline) {
      throw new StackError(
        `${name}: port 127.0.0.1:${port} is already in use by a process this stack did not start (its pidfile is missing); free it, or delete its entry in .stack/ports.json to have another port chosen`,
      );
    }
    await sleep(200);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) and collects its output; never throws on a non-zero exit. */
export function run(
  file: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; log?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (opts.log) writeFileSync(opts.log, `${stdout}${stderr}`, { flag: 'a' });
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && !stdout ? String(error.message) : '') });
      },
    );
    // A program that exits without reading its input (or is not there) closes the pipe: EPIPE on stdin
    // is not an error of ours; its exit code and output are what the caller judges.
    child.stdin?.on('error', () => {});
    if (opts.input === undefined) child.stdin?.end();
    else child.stdin?.end(opts.input);
  });
}

/** Runs a program that daemonises itself (salt -d, redis, sshd), its output appended to log. */
export async function runDaemonising(name: string, file: string, args: string[], log: string): Promise<void> {
  const fd = openSync(log, 'a');
  try {
    const code = await new Promise<number>((resolve) => {
      const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
      child.once('error', () => resolve(127));
      child.once('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new StackError(`${name}: ${file} ${args.join(' ')} failed with exit code ${code} (see ${log})`);
  } finally {
    closeSync(fd);
  }
}

/** Starts a long-running program in its own session, output to log, its pid written to pidfile. */
export function spawnDetached(pidfile: string, log: string, file: string, args: string[]): void {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new StackError(`could not start ${file} (see ${log})`);
    writeFileSync(pidfile, `${child.pid}\n`);
    child.unref();
  } finally {
    closeSync(fd);
  }
}

/** The last lines of a log file, for an error message. */
export function tail(log: string, lines = 25): string {
  try {
    return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Polls check until it is true; after `seconds`, fails naming what it waited for and the log's tail. */
export async function waitFor(seconds: number, what: string, log: string | undefined, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() >= deadline) {
      const last = log ? tail(log) : '';
      throw new StackError(`timed out after ${seconds}s waiting for ${what}${last ? `\n--- last lines of ${log}:\n${last}` : ''}`);
    }
    await sleep(300);
  }
}
