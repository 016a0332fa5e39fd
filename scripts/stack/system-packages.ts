/** The Debian packages the stack's services come from, installed with apt-get when a program is missing. */
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { StackError, say } from './context.js';
import { run, tail } from './proc.js';

const PROGRAMS = [
  'mariadbd',
  'mariadb-install-db',
  'mariadb',
  'mariadb-admin',
  'redis-server',
  'redis-cli',
  'ssh',
  'ssh-keygen',
  'openssl',
  'unshare',
  'flock',
];
const PACKAGES = ['mariadb-server', 'redis-server', 'openssh-server', 'openssl', 'util-linux'];

/** The path of program on PATH, or undefined. */
export function which(program: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** apt-get install, with the packages' maintainer scripts kept from starting system-wide daemons. */
export async function aptInstall(packages: string[], log: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new StackError(`need root to apt-get install ${packages.join(' ')}`);
  const policy = '/usr/sbin/policy-rc.d';
  const made = !existsSync(policy);
  if (made) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = await run('apt-get', ['update', '-q'], { log, env });
    const install = update.code === 0 ? await run('apt-get', ['install', '-y', '-q', ...packages], { log, env }) : update;
    if (install.code !== 0) throw new StackError(`apt-get install ${packages.join(' ')} failed (see ${log}):\n${tail(log)}`);
  } finally {
    if (made) rmSync(policy, { force: true });
  }
}

export async function ensureSystemPackages(logDir: string): Promise<void> {
  const missing = PROGRAMS.filter((p) => !which(p));
  if (!existsSync('/usr/sbin/sshd')) missing.push('sshd');
  if (!missing.length) return;
  say(`system packages: missing ${missing.join(' ')}; installing with apt-get`);
  await aptInstall(PACKAGES, join(logDir, 'apt.log'));
  const still = PROGRAMS.filter((p) => !which(p));
  if (still.length) throw new StackError(`${still.join(' ')} still missing after apt-get install`);
}
