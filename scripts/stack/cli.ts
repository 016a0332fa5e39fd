/**
 * The local stack: salt-master + salt-api (TLS) + N minions, s3rver, MariaDB, Redis and sshd, all on
 * 127.0.0.1, all state under STACK_DIR (default <project>/.stack), every process stopped by its pidfile.
 *
 *   tsx scripts/stack/cli.ts up | down | status | restart <service>     (npm run stack -- <command>)
 *   services: salt-master salt-api minion:<id> s3 mariadb redis sshd
 *
 * `up` is idempotent: a service running, answering and unchanged is left alone; one whose configuration
 * changed is restarted. Ports are chosen per checkout (ports.ts), so two checkouts run side by side; `up`
 * writes STACK_DIR/stack.env. Environment: STACK_DIR, STACK_MINION_COUNT (default 2: 127.0.0.1, 127.0.0.2).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { minionIds, StackError, say, stackPaths, type Paths } from './context.js';
import { secret } from './files.js';
import { writeEnv } from './env-file.js';
import { choosePorts, knownPorts, type PortName } from './ports.js';
import { awaitReaped, reapOrphans, stopAll } from './proc.js';
import { mariadb } from './services/mariadb.js';
import { ensureMinions, isolated, minionPid, minionTargets, stopExtraMinions, stopMinion, appsDir } from './services/minions.js';
import { redis } from './services/redis.js';
import { s3 } from './services/s3.js';
import { notAnswering, saltApi } from './services/salt-api.js';
import { saltMaster } from './services/salt-master.js';
import { sshd, startSshd } from './services/sshd.js';
import { ensure, pidOf, type Service, type Stack } from './supervisor.js';
import { ensureSystemPackages } from './system-packages.js';
import { ensureTls } from './tls.js';
import { startVenv } from './venv.js';

if (!process.env['PATH']?.split(':').includes('/usr/sbin')) process.env['PATH'] = `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin`;

const SERVICES = { 'salt-master': saltMaster, 'salt-api': saltApi, s3, mariadb, redis, sshd } as const;
type Named = keyof typeof SERVICES;

/** Which service each port belongs to (a live service keeps its port). */
const PORT_OWNER: Record<PortName, Named> = {
  saltPublish: 'salt-master',
  saltRet: 'salt-master',
  saltApi: 'salt-api',
  s3: 's3',
  mysql: 'mariadb',
  redis: 'redis',
  redisTls: 'redis',
  ssh: 'sshd',
};

/**
 * Holds STACK_DIR/.lock (flock(1), the lock the earlier bash stack took) for this process's lifetime: the
 * lock belongs to a child that exits when this process's end of the pipe closes, however it ends.
 */
async function lock(paths: Paths): Promise<void> {
  mkdirSync(paths.log, { recursive: true });
  const child = spawn('flock', ['-w', '900', paths.lockFile, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  // Not unref'd: main() ends with process.exit, which closes the pipe and so releases the lock.
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new StackError(`another stack command is still running (lock ${paths.lockFile})`)));
    child.once('error', (e) => reject(new StackError(`flock: ${e.message}`)));
  });
}

/** A stack with its ports chosen (for up/restart) or as last saved (status/down). */
async function stackFor(paths: Paths, choose: boolean): Promise<Stack> {
  const minions = minionIds();
  const base = { paths, minions, changed: new Set<string>() };
  if (!choose) return { ...base, ports: knownPorts(paths.portsFile, paths.envFile) };
  const saved = { ...base, ports: knownPorts(paths.portsFile, paths.envFile) };
  const owned = (name: PortName) => pidOf(SERVICES[PORT_OWNER[name]](saved)) !== undefined;
  return { ...base, ports: await choosePorts(paths.portsFile, paths.envFile, owned, say) };
}

async function prepare(paths: Paths): Promise<void> {
  await lock(paths);
  await ensureSystemPackages(paths.log);
  for (const name of ['salt-api', 'mysql', 'redis']) secret(paths.secrets, name);
}

async function up(paths: Paths): Promise<void> {
  await prepare(paths);
  const stack = await stackFor(paths, true);
  const venv = startVenv(paths.venv, paths.log); // in the background: the other services start meanwhile
  try {
    await ensureTls(stack);
    await ensure(stack, s3(stack));
    await ensure(stack, mariadb(stack));
    await ensure(stack, redis(stack));
    await ensure(stack, sshd(stack), startSshd);
    await venv.done;
  } finally {
    venv.cancel();
  }
  await ensure(stack, saltMaster(stack));
  await ensure(stack, saltApi(stack));
  await stopExtraMinions(stack);
  await ensureMinions(stack);
  await writeEnv(stack);
  say(`stack ready: ${paths.envFile}`);
}

async function down(paths: Paths): Promise<void> {
  if (!existsSync(paths.dir)) return say(`stack down (no ${paths.dir})`);
  await lock(paths);
  const stack = await stackFor(paths, false);
  const minions = minionTargets(stack);
  const services = Object.values(SERVICES).map((f) => f(stack));
  const [master, api, ...rest] = services;
  await stopAll([api!, ...minions, master!, ...rest]);
  for (const s of [api!, master!]) for (const f of s.orphans) await reapOrphans(s.name, f);
  for (const m of minions) await reapOrphans(m.name, m.orphan);
  for (const s of rest) for (const f of s.orphans) await reapOrphans(s.name, f);
  await awaitReaped();
  say('stack down');
}

async function restart(paths: Paths, name: string | undefined): Promise<void> {
  const usage = 'restart salt-api|salt-master|minion:<id>|s3|mariadb|redis|sshd';
  if (!name) throw new StackError(`usage: ${usage}`);
  const minion = name.startsWith('minion:') ? name.slice('minion:'.length) : undefined;
  if (minion !== undefined) {
    const ids = minionIds();
    if (!ids.includes(minion)) throw new StackError(`no minion '${minion}' (STACK_MINION_COUNT=${ids.length}: ${ids.join(' ')})`);
  } else if (!(name in SERVICES)) {
    throw new StackError(`unknown service '${name}' (salt-api, salt-master, minion:<id>, s3, mariadb, redis, sshd)`);
  }
  await prepare(paths);
  const stack = await stackFor(paths, true);
  if (['salt-master', 'salt-api', 'mariadb', 'redis'].includes(name) || minion !== undefined) await ensureTls(stack);
  if (['salt-master', 'salt-api'].includes(name) || minion !== undefined) await startVenv(paths.venv, paths.log).done;
  if (minion !== undefined) {
    await stopMinion(stack, minion);
    await ensureMinions(stack);
  } else {
    const service = SERVICES[name as Named](stack);
    await stopAll([service]);
    await ensure(stack, service, name === 'sshd' ? startSshd : undefined);
    if (name === 'salt-master') await ensureMinions(stack); // wait until the minions are back on the new master
  }
  await writeEnv(stack);
  say(`restarted ${name}`);
}

async function status(paths: Paths): Promise<boolean> {
  const stack = await stackFor(paths, false);
  let allUp = true;
  const line = (name: string, up: boolean, detail: string) => {
    say(`${name}: ${up ? 'up' : 'down'} (${detail})`);
    allUp &&= up;
  };
  const check = async (s: Service) => {
    const pid = pidOf(s);
    if (pid === undefined) line(s.name, false, existsSync(s.pidfile) ? `stale pidfile ${s.pidfile}` : 'not running');
    else if (await s.ready()) line(s.name, true, `pid ${pid}, ${s.detail}`);
    else line(s.name, false, `pid ${pid} alive but not answering`);
  };
  const api = saltApi(stack);
  await check(saltMaster(stack));
  await check(api);
  const apiUp = await api.ready();
  const missing = apiUp && existsSync(join(paths.secrets, 'salt-api')) ? (await notAnswering(stack, stack.minions)).missing : [];
  for (const id of stack.minions) {
    const pid = minionPid(stack, id);
    if (pid === undefined) line(`minion:${id}`, false, 'not running');
    else if (!isolated(stack, id, pid)) line(`minion:${id}`, false, `pid ${pid} alive but /srv/stack-apps is not its private ${appsDir(stack, id)}: run up`);
    else if (!apiUp) line(`minion:${id}`, true, `pid ${pid}, test.ping not checked: salt-api is down`);
    else if (missing.includes(id)) line(`minion:${id}`, false, `pid ${pid} alive but no test.ping answer through salt-api`);
    else line(`minion:${id}`, true, `pid ${pid}, test.ping true`);
  }
  for (const name of ['s3', 'mariadb', 'redis', 'sshd'] as const) await check(SERVICES[name](stack));
  return allUp;
}

async function main(argv: string[]): Promise<number> {
  const paths = stackPaths();
  switch (argv[0]) {
    case 'up':
      await up(paths);
      return 0;
    case 'down':
      await down(paths);
      return 0;
    case 'status':
      return (await status(paths)) ? 0 : 1;
    case 'restart':
      await restart(paths, argv[1]);
      return 0;
    default:
      console.error('usage: npm run stack -- up|down|status|restart <salt-api|salt-master|minion:<id>|s3|mariadb|redis|sshd>');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof StackError ? `stack: error: ${error.message}` : error);
    process.exit(1);
  },
);
