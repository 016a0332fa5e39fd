/**
 * The stack's ports, chosen per checkout: each one's usual port when it is free, any free port when not,
 * kept in STACK_DIR/ports.json so that the next `up` reuses them, and written to stack.env for every client.
 * Two checkouts (or `npm start` in one and `npm test` in another) therefore run side by side.
 */
import { existsSync, readFileSync } from 'node:fs';
import { put } from './files.js';
import { freePort, portBindable, portOpen } from './proc.js';
import { readEnvFile } from '../lib/env-file.js';

/** The usual ports (the first checkout on a machine gets these). */
export const DEFAULT_PORTS = {
  saltPublish: 14505,
  saltRet: 14506,
  saltApi: 18000,
  s3: 19000,
  mysql: 13306,
  redis: 16379,
  redisTls: 16380,
  ssh: 12222,
} as const;

export type PortName = keyof typeof DEFAULT_PORTS;
export type Ports = Record<PortName, number>;

/** What stack.env called each port before ports.json existed (a stack started by the earlier bash stack script). */
const ENV_NAMES: Record<PortName, (env: Record<string, string>) => string | undefined> = {
  saltPublish: (e) => e['AGENT_MINION_PUBLISH_PORT'],
  saltRet: (e) => e['AGENT_MINION_MASTER_PORT'],
  saltApi: (e) => /:(\d+)$/.exec(e['SALT_API_URL'] ?? '')?.[1],
  s3: (e) => /:(\d+)$/.exec(e['S3_ENDPOINT'] ?? '')?.[1],
  mysql: (e) => e['MYSQL_PORT'],
  redis: (e) => e['REDIS_PORT'],
  redisTls: (e) => e['REDIS_TLS_PORT'],
  ssh: (e) => e['SSH_PORT'],
};

const valid = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536;

/** The ports this stack has used (ports.json, else an older stack.env), without choosing any. */
export function savedPorts(portsFile: string, envFile: string): Partial<Ports> {
  if (existsSync(portsFile)) {
    try {
      const saved = JSON.parse(readFileSync(portsFile, 'utf8')) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(saved).filter(([k, v]) => k in DEFAULT_PORTS && valid(v))) as Partial<Ports>;
    } catch {
      return {};
    }
  }
  const env = readEnvFile(envFile);
  const out: Partial<Ports> = {};
  for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) {
    const n = Number(ENV_NAMES[name](env));
    if (valid(n)) out[name] = n;
  }
  return out;
}

/** The ports for status/down: the saved ones, the usual ones for the rest. */
export function knownPorts(portsFile: string, envFile: string): Ports {
  return { ...DEFAULT_PORTS, ...savedPorts(portsFile, envFile) };
}

const isFree = async (port: number) => !(await portOpen(port)) && (await portBindable(port));

/**
 * A free port for one whose usual port is taken: usual + 100, + 200, ... (below the kernel's ephemeral range,
 * where an outgoing connection could take it while the stack is down), else any the kernel gives.
 */
async function alternative(usual: number, taken: Set<number>): Promise<number> {
  for (let k = 1; k <= 20; k++) {
    const port = usual + 100 * k;
    if (port < 32768 && !taken.has(port) && (await isFree(port))) return port;
  }
  let port: number;
  do port = await freePort();
  while (taken.has(port));
  return port;
}

/**
 * The ports for `up`: each saved (or usual) port is kept when the service using it is ours and alive
 * (`owned`), or when it is free; otherwise another free port is chosen and said. Saved to ports.json.
 */
export async function choosePorts(
  portsFile: string,
  envFile: string,
  owned: (name: PortName) => boolean,
  note: (line: string) => void,
  usual: Ports = DEFAULT_PORTS,
): Promise<Ports> {
  const saved = savedPorts(portsFile, envFile);
  const chosen = {} as Ports;
  const taken = new Set<number>();
  for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) {
    const wanted = saved[name] ?? usual[name];
    let port = wanted;
    const usable = !taken.has(wanted) && (owned(name) || (await isFree(wanted)));
    if (!usable) {
      port = await alternative(usual[name], taken);
      note(`ports: ${name} ${wanted} is in use by another program, using ${port}`);
    }
    chosen[name] = port;
    taken.add(port);
  }
  put(portsFile, `${JSON.stringify(chosen, null, 2)}\n`, 0o644);
  return chosen;
}
