/**
 * Where the local stack keeps everything (all under STACK_DIR, default <project>/.stack), its minion ids,
 * and the messages it prints. Paths only: nothing here starts or reads a process.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A failure `up`/`restart` reports as `stack: error: <message>` (exit 1). */
export class StackError extends Error {}

export const say = (line: string) => console.log(line);

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const HERE = join(ROOT, 'scripts', 'stack');

/** Private to each minion (its mount namespace binds its own host directory here). */
export const STACK_APPS_MOUNT = '/srv/stack-apps';

export type Paths = ReturnType<typeof stackPaths>;

export function stackPaths(env: NodeJS.ProcessEnv = process.env) {
  const raw = env['STACK_DIR'] || join(ROOT, '.stack');
  const dir = (isAbsolute(raw) ? raw : resolve(raw)).replace(/\/+$/, '');
  const salt = join(dir, 'salt');
  const master = join(salt, 'master');
  const ssh = join(dir, 'ssh');
  const mdb = join(dir, 'mariadb');
  const redis = join(dir, 'redis');
  const tls = join(dir, 'tls');
  return {
    dir,
    log: join(dir, 'log'),
    secrets: join(dir, 'secrets'),
    /** STACK_VENV shares another stack's venv (read only: its salt is never reinstalled from here). */
    venv: env['STACK_VENV'] || join(dir, 'venv'),
    envFile: join(dir, 'stack.env'),
    portsFile: join(dir, 'ports.json'),
    lockFile: join(dir, '.lock'),
    hosts: join(dir, 'hosts'),
    tls: { dir: tls, ca: join(tls, 'ca.pem'), caKey: join(tls, 'ca-key.pem'), cert: join(tls, 'server.pem'), key: join(tls, 'server-key.pem') },
    salt: {
      root: salt,
      etc: join(salt, 'etc'),
      master,
      pki: join(master, 'pki'),
      masterPid: join(master, 'salt-master.pid'),
      apiPid: join(master, 'salt-api.pid'),
      eauth: join(salt, 'eauth-users.txt'),
      logs: join(salt, 'log'),
      minion: (id: string) => join(salt, 'minions', id),
      minions: join(salt, 'minions'),
    },
    s3: { data: join(dir, 's3'), pid: join(dir, 's3rver.pid'), hooks: join(dir, 's3-hooks') },
    mariadb: { dir: mdb, data: join(mdb, 'data'), socket: join(mdb, 'mysqld.sock'), pid: join(mdb, 'mariadbd.pid'), args: join(mdb, 'mariadbd.args') },
    redis: { dir: redis, conf: join(redis, 'redis.conf'), pid: join(redis, 'redis.pid') },
    ssh: {
      dir: ssh,
      conf: join(ssh, 'sshd_config'),
      pid: join(ssh, 'sshd.pid'),
      hostKey: join(ssh, 'ssh_host_ed25519_key'),
      clientKey: join(ssh, 'id_ed25519'),
      usePam: join(ssh, 'use-pam'),
    },
  };
}

/** Minion ids 127.0.0.1 .. 127.0.0.N (STACK_MINION_COUNT, default 2). */
export function minionIds(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env['STACK_MINION_COUNT'] ?? '2';
  const count = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(count >= 1 && count <= 254)) throw new StackError(`STACK_MINION_COUNT must be 1..254, got '${raw}'`);
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
}
