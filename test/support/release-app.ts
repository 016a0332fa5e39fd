/**
 * The test application of the release tests: a .tgz (no top-level directory) with a tiny unix-socket
 * server and its start/stop/health scripts, meant to be unpacked under /srv/stack-apps/<name>/ on the
 * stack's minions. Every minion sees its own /srv/stack-apps (scripts/stack/services/minions.ts: a bind mount of
 * .stack/hosts/<id>/apps in the minion's mount namespace), so the same destination on two minions is two
 * separate installs, which this process reaches through hostPath().
 *
 *   VERSION                the version string
 *   conf/app.properties    version=[@app_version] / greeting=[@greeting] (placeholders a release fills in)
 *   app/server.py          answers each connection on run/app.sock with {"version","conf","pid"} + "\n"
 *   bin/start.sh           starts the server detached (idempotent); exit 0 once the socket answers
 *   bin/stop.sh            stops it (TERM, 10 s, KILL); exit 0 also when nothing ran
 *   bin/health.sh          exit 1 when /srv/stack-apps/.fail-health exists or the answer's version is not VERSION
 *   logs/, run/            app.log; app.pid and app.sock
 *
 * The scripts use /usr/bin/python3 (the pyenv python3 on PATH is not readable by other users).
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { SaltClient } from '../../lib/salt/salt-client.js';
import { stackEnv } from './stack.js';

export interface AppStatus {
  version: string;
  conf: string;
  pid: number;
}

/** The per-host marker that makes bin/health.sh fail, as the minions see it. */
export const FAIL_HEALTH_MARKER = '/srv/stack-apps/.fail-health';

export const APP_PROPERTIES = 'version=[@app_version]\ngreeting=[@greeting]\n';

const SERVER_PY = `#!/usr/bin/python3
"""Release test application: answers every connection on <install>/run/app.sock with one JSON line."""
import json
import os
import resource
import signal
import socket
import sys
import time

HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOCK = "run/app.sock"  # relative to HOME: an absolute path may be too long for a socket address


def log(message):
    print(time.strftime("%Y-%m-%dT%H:%M:%S"), message, flush=True)


def main():
    # nothing inherited may keep a pipe of whoever started us open
    os.closerange(3, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 65536))
    os.chdir(HOME)
    with open("VERSION", encoding="utf-8") as f:
        version = f.read().strip()
    with open("conf/app.properties", encoding="utf-8") as f:
        conf = f.read()
    answer = (json.dumps({"version": version, "conf": conf, "pid": os.getpid()}) + "\\n").encode()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        os.unlink(SOCK)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(SOCK)
    os.chmod(SOCK, 0o666)
    inode = os.stat(SOCK).st_ino
    server.listen(64)
    log(f"app {version} listening on {HOME}/{SOCK} (pid {os.getpid()})")
    try:
        while True:
            conn, _ = server.accept()
            with conn:
                try:
                    conn.sendall(answer)
                except OSError:
                    pass
    finally:
        try:
            if os.stat(SOCK).st_ino == inode:  # not a newer server's socket
                os.unlink(SOCK)
        except OSError:
            pass
        log(f"app {version} stopped (pid {os.getpid()})")


if __name__ == "__main__":
    main()
`;

/** bash: alive <pid>: a live (not zombie) server.py of this install; the pid file's pid may be reused. */
const ALIVE_FN = `alive() {
  local cmd
  [[ \${1:-} =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$PWD/app/server.py"* ]]
}`;

/** bash: answer <field>: prints that field of the socket's answer; fails when nothing answers. */
const ANSWER_FN = `answer() {
  /usr/bin/python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect("run/app.sock")
data = b""
while b"\\n" not in data:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(json.loads(data)[sys.argv[1]])' "$1"
}`;

const START_SH = `#!/bin/bash
# Starts the application (app/server.py) fully detached; exit 0 when it answers on run/app.sock, at once
# when it already runs.
set -u
cd "$(dirname "$0")/.." || exit 1
mkdir -p run logs
${ALIVE_FN}
${ANSWER_FN}
if [ -s run/app.pid ] && pid=$(cat run/app.pid) && alive "$pid"; then
  echo "app $(cat VERSION) already running (pid $pid)"
  exit 0
fi
rm -f run/app.pid run/app.sock
# New session, no tie to our stdio (the caller waits for its stdout to close); the process writes its own
# pid (setsid may fork).
setsid /bin/bash -c 'echo $$ >run/app.pid && exec /usr/bin/python3 "$1"' app-start "$PWD/app/server.py" \\
  </dev/null >>logs/app.log 2>&1 &
for ((i = 0; i < 50; i++)); do
  sleep 0.2
  if got=$(answer pid 2>/dev/null); then
    echo "app $(cat VERSION) started (pid $got)"
    exit 0
  fi
  if [ -s run/app.pid ] && ! alive "$(cat run/app.pid)"; then
    echo "app exited while starting"
    break
  fi
done
echo "app did not answer on $PWD/run/app.sock; last lines of logs/app.log:"
tail -n 20 logs/app.log
exit 1
`;

const STOP_SH = `#!/bin/bash
# Stops the application: SIGTERM, up to 10 s, then SIGKILL. Exit 0 also when it was not running.
set -u
cd "$(dirname "$0")/.." || exit 1
${ALIVE_FN}
pid=$(cat run/app.pid 2>/dev/null || true)
if alive "$pid"; then
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    echo "app (pid $pid) still running after 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  echo "app stopped (pid $pid)"
else
  echo "app not running"
fi
rm -f run/app.pid run/app.sock
exit 0
`;

const HEALTH_SH = `#!/bin/bash
# Exit 0 when the application answers on run/app.sock with the installed VERSION; 1 otherwise, or when
# the host's ${FAIL_HEALTH_MARKER} marker exists.
set -u
cd "$(dirname "$0")/.." || exit 1
if [ -e ${FAIL_HEALTH_MARKER} ]; then
  echo "unhealthy: ${FAIL_HEALTH_MARKER} exists"
  exit 1
fi
${ANSWER_FN}
want=$(cat VERSION)
if ! version=$(answer version 2>&1); then
  echo "unhealthy: no answer on run/app.sock: $version"
  exit 1
fi
if [ "$version" != "$want" ]; then
  echo "unhealthy: version $version answers, $want is installed"
  exit 1
fi
echo "healthy: version $want, pid $(answer pid)"
`;

export interface Entry {
  name: string;
  type: 'file' | 'directory';
  mode: number;
  content?: string;
}

/** The archive's entries, in order (directories before their content). */
export function releaseAppEntries(version: string): Entry[] {
  return [
    { name: 'VERSION', type: 'file', mode: 0o644, content: version },
    { name: 'conf/', type: 'directory', mode: 0o755 },
    { name: 'conf/app.properties', type: 'file', mode: 0o644, content: APP_PROPERTIES },
    { name: 'app/', type: 'directory', mode: 0o755 },
    { name: 'app/server.py', type: 'file', mode: 0o755, content: SERVER_PY },
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/start.sh', type: 'file', mode: 0o755, content: START_SH },
    { name: 'bin/stop.sh', type: 'file', mode: 0o755, content: STOP_SH },
    { name: 'bin/health.sh', type: 'file', mode: 0o755, content: HEALTH_SH },
    { name: 'logs/', type: 'directory', mode: 0o755 },
    { name: 'run/', type: 'directory', mode: 0o755 },
  ];
}

/** The test application as a .tgz, built in memory (modes kept, no top-level directory). */
export async function buildReleaseApp(version: string, extra: readonly Entry[] = []): Promise<Buffer> {
  if (!version || /[\r\n]/.test(version)) throw new Error(`bad version ${JSON.stringify(version)}`);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => pack.on('end', () => resolve()).on('error', reject));
  const mtime = new Date();
  for (const e of [...releaseAppEntries(version), ...extra]) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type, mode: e.mode, mtime }, e.content ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

function appsLayout(): { mount: string; hostsDir: string } {
  const env = stackEnv();
  const hostsDir = env['STACK_HOSTS_DIR'];
  if (!hostsDir) throw new Error('the stack env has no STACK_HOSTS_DIR: run "npm run stack -- up" again');
  return { mount: env['STACK_APPS_MOUNT'] || '/srv/stack-apps', hostsDir };
}

/**
 * Where an absolute path under /srv/stack-apps (STACK_APPS_MOUNT) of minion `host` lives in this (the
 * root) mount namespace: `${STACK_HOSTS_DIR}/<host>/apps/<path relative to the mount>`. A trailing `/` is kept.
 */
export function hostPath(host: string, path: string): string {
  const { mount, hostsDir } = appsLayout();
  if (!host || host.includes('/') || host === '.' || host === '..') throw new Error(`bad host ${JSON.stringify(host)}`);
  if (!path.startsWith('/')) throw new Error(`not an absolute path: ${path}`);
  const rel = posix.relative(mount, posix.normalize(path));
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) throw new Error(`${path} is not under ${mount}`);
  const out = posix.join(hostsDir, host, 'apps', rel);
  return path.endsWith('/') && !out.endsWith('/') ? `${out}/` : out;
}

/** Creates or removes the marker that makes bin/health.sh fail on `host` (and only there). */
export function setFailHealth(host: string, fail: boolean): void {
  const marker = hostPath(host, FAIL_HEALTH_MARKER);
  if (fail) writeFileSync(marker, 'test marker: bin/health.sh fails on this host\n');
  else rmSync(marker, { force: true });
}

/** One answer of the socket at `path`; null when nothing listens there (ENOENT, ECONNREFUSED). */
function querySocket(path: string, timeoutMs: number): Promise<AppStatus | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const parse = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        const got = JSON.parse(text.split('\n')[0]!) as AppStatus;
        finish(() => resolve(got));
      } catch {
        finish(() => reject(new Error(`unexpected answer on ${path}: ${JSON.stringify(text.slice(0, 200))}`)));
      }
    };
    const socket = createConnection({ path });
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer on ${path} within ${timeoutMs} ms`))), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (c.includes(10)) parse();
    });
    socket.on('end', parse);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') finish(() => resolve(null));
      else finish(() => reject(error));
    });
  });
}

/**
 * What the application installed at `destination` (an absolute path under /srv/stack-apps, e.g.
 * '/srv/stack-apps/demo/') on minion `host` answers on its run/app.sock, or null when nothing answers.
 * Rejects on a 2 s timeout or an answer that is not the app's JSON.
 */
export async function appStatus(host: string, destination: string, timeoutMs = 2000): Promise<AppStatus | null> {
  const sock = join(hostPath(host, destination), 'run', 'app.sock');
  // A unix socket address holds 107 bytes: reach a longer path through a short symlink to its directory.
  if (Buffer.byteLength(sock) <= 100) return querySocket(sock, timeoutMs);
  const dir = mkdtempSync(join(tmpdir(), 'appsock-'));
  try {
    symlinkSync(dirname(sock), join(dir, 'r'));
    return await querySocket(join(dir, 'r', 'app.sock'), timeoutMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Puts the stack's hosts back after release tests: each app in `dirs` stopped (its own stop script, as the
 * app's user) and removed, then the user deleted. Best effort: a host or an app already gone is no failure.
 */
export async function removeReleaseApps(salt: Pick<SaltClient, 'local'>, hosts: string[], dirs: readonly string[], user: string): Promise<void> {
  const quietly = (call: Parameters<SaltClient['local']>[0]) => salt.local(call).catch(() => undefined);
  for (const dir of dirs) {
    await quietly({
      fun: 'cmd.run_all',
      arg: [['sh', '-c', 'test -x "$1" && "$1"; true', 'stop', `${dir}bin/stop.sh`]],
      kwarg: { python_shell: false, runas: user },
      tgt: hosts,
      timeout: 20,
    });
    await quietly({ fun: 'file.remove', arg: [dir.replace(/\/$/, '')], tgt: hosts, timeout: 20 });
  }
  // on one host: the stack's minions share this machine's /etc/passwd (two userdels at once would race)
  await quietly({ fun: 'user.delete', arg: [user], kwarg: { remove: true, force: true }, tgt: hosts.slice(0, 1), timeout: 20 });
}
