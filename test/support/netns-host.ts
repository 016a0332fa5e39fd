/**
 * A separate test host for agent/*: a network namespace with its own address on a private /29 that exists
 * only inside this machine (10.123.45.0/29: .1 here, .2 in the namespace, .5 nobody), an sshd running
 * inside it, a sudo user and a user without sudo, and TCP forwarders from 10.123.45.1 to the stack's
 * master (which listens on 127.0.0.1 only, and whose config is not touched).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { addUser, rand, removeUser } from './host-script.js';

export const NETNS_HOST_IP = '10.123.45.2';
export const NETNS_GATEWAY_IP = '10.123.45.1';
/** On the veth subnet, never assigned: connections to it fail. */
export const NETNS_SILENT_IP = '10.123.45.5';

const NS = 'saltagent-it';
const VETH_HOST = 'vsagent0';
const VETH_NS = 'vsagent1';
const SUDOERS = '/etc/sudoers.d/saltagent-it';

export interface NetnsHost {
  ip: string;
  dir: string;
  /** Minion config dir the operation must use (AGENT_MINION_CONFIG_DIR). */
  minionDir: string;
  sudoUser: { name: string; password: string };
  noSudoUser: { name: string; password: string };
  /** A private key (OpenSSH PEM) root may log in with (this sshd's own authorized_keys). */
  rootKey: string;
  /** The pid in the minion's pidfile when that process is alive. */
  minionPid(): number | undefined;
  /** Runs a program inside the namespace. */
  exec(args: string[]): string;
  stop(): Promise<void>;
}

const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined && { input }) });
const tryRun = (cmd: string, args: string[]) => {
  try {
    run(cmd, args);
  } catch {
    // already gone
  }
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const readPid = (path: string): number | undefined => {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
};

function forward(port: number, sockets: Set<Socket>): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port });
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const close = () => (inbound.destroy(), outbound.destroy(), sockets.delete(inbound), sockets.delete(outbound));
    inbound.on('error', close).on('close', close);
    outbound.on('error', close).on('close', close);
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, NETNS_GATEWAY_IP, () => resolve(server)));
}

function removeNetwork(): void {
  tryRun('ip', ['netns', 'del', NS]);
  tryRun('ip', ['link', 'del', VETH_HOST]);
}

/** Builds the host (removing leftovers of an interrupted run first); `ports` are the master's publish and ret ports. */
export async function startNetnsHost(ports: number[]): Promise<NetnsHost> {
  for (const tool of ['/usr/sbin/ip', '/usr/bin/sudo']) {
    if (!existsSync(tool)) run('apt-get', ['install', '-y', '--no-install-recommends', 'iproute2', 'sudo']);
  }
  removeNetwork();
  run('ip', ['netns', 'add', NS]);
  run('ip', ['link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS]);
  run('ip', ['link', 'set', VETH_NS, 'netns', NS]);
  run('ip', ['addr', 'add', `${NETNS_GATEWAY_IP}/29`, 'dev', VETH_HOST]);
  run('ip', ['link', 'set', VETH_HOST, 'up']);
  const inNs = (args: string[]) => run('ip', ['netns', 'exec', NS, ...args]);
  inNs(['ip', 'addr', 'add', `${NETNS_HOST_IP}/29`, 'dev', VETH_NS]);
  inNs(['ip', 'link', 'set', VETH_NS, 'up']);
  inNs(['ip', 'link', 'set', 'lo', 'up']);

  const dir = `/tmp/saltagent-it-${rand()}`;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  mkdirSync('/run/sshd', { recursive: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/host_key`]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/root_key`]);
  writeFileSync(`${dir}/authorized_keys`, readFileSync(`${dir}/root_key.pub`), { mode: 0o600 });
  writeFileSync(
    `${dir}/sshd_config`,
    [
      `ListenAddress ${NETNS_HOST_IP}`,
      'Port 22',
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      'PermitRootLogin yes',
      'PubkeyAuthentication yes',
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'UseDNS no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  inNs(['/usr/sbin/sshd', '-f', `${dir}/sshd_config`, '-E', `${dir}/sshd.log`]);

  const sudoUser = { name: `agit${rand()}`, password: `Pw-${rand()}-'"$;x` };
  const noSudoUser = { name: `agno${rand()}`, password: `Pw-${rand()}` };
  addUser(sudoUser.name, sudoUser.password);
  addUser(noSudoUser.name, noSudoUser.password);
  writeFileSync(SUDOERS, `${sudoUser.name} ALL=(ALL) ALL\n`, { mode: 0o440 });

  const sockets = new Set<Socket>();
  const servers = await Promise.all(ports.map((p) => forward(p, sockets)));
  const minionDir = `${dir}/salt`;
  const minionPid = () => readPid(`${minionDir}/run/salt-minion.pid`);

  // sshd writes its pidfile after it daemonises
  for (let i = 0; i < 50 && !readPid(`${dir}/sshd.pid`); i++) await new Promise((r) => setTimeout(r, 100));

  return {
    ip: NETNS_HOST_IP,
    dir,
    minionDir,
    sudoUser,
    noSudoUser,
    rootKey: readFileSync(`${dir}/root_key`, 'utf8'),
    minionPid,
    exec: inNs,
    stop: async () => {
      for (const pid of [minionPid(), readPid(`${dir}/sshd.pid`)]) if (pid) process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && minionPid(); i++) await new Promise((r) => setTimeout(r, 100));
      const left = minionPid();
      if (left) process.kill(left, 'SIGKILL');
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      removeNetwork();
      rmSync(SUDOERS, { force: true });
      removeUser(sudoUser.name);
      removeUser(noSudoUser.name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
