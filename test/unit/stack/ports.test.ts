import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { choosePorts, DEFAULT_PORTS, knownPorts, type PortName, type Ports } from '../../../scripts/stack/ports.js';

const names = Object.keys(DEFAULT_PORTS) as PortName[];

/** Listens on a port the kernel picks below 32768 - 2100 (so usual + 100k stays below the ephemeral range). */
async function listenSomewhere(): Promise<{ server: Server; port: number }> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(true));
    });
    if (ok) return { server, port };
  }
}

describe('the stack chooses its ports per checkout (scripts/stack/ports.ts)', () => {
  let dir: string;
  let portsFile: string;
  let envFile: string;
  const servers: Server[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stack-ports-'));
    portsFile = join(dir, 'ports.json');
    envFile = join(dir, 'stack.env');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Usual ports that are free now (each one listened on, then closed). */
  async function freeUsual(): Promise<Ports> {
    const out = {} as Ports;
    const used = new Set<number>();
    for (const name of names) {
      let port: number;
      do {
        const got = await listenSomewhere();
        await new Promise((r) => got.server.close(r));
        port = got.port;
      } while (used.has(port) || used.has(port + 100) || used.has(port - 100)); // distinct, and no alternative of another
      used.add(port);
      out[name] = port;
    }
    return out;
  }

  it('takes the usual ports when they are free, and saves them', async () => {
    const usual = await freeUsual();
    const notes: string[] = [];
    const ports = await choosePorts(
      portsFile,
      envFile,
      () => false,
      (l) => notes.push(l),
      usual,
    );
    expect(ports).toEqual(usual);
    expect(notes).toEqual([]);
    expect(JSON.parse(readFileSync(portsFile, 'utf8'))).toEqual(usual);
  });

  it('moves a port held by another program to usual + 100 and says so; the others stay', async () => {
    const usual = await freeUsual();
    const held = await listenSomewhere();
    servers.push(held.server);
    usual.saltApi = held.port;
    const notes: string[] = [];
    const ports = await choosePorts(
      portsFile,
      envFile,
      () => false,
      (l) => notes.push(l),
      usual,
    );
    expect(ports.saltApi).not.toBe(held.port);
    expect(ports.saltApi % 100).toBe(held.port % 100);
    expect(notes).toEqual([`ports: saltApi ${held.port} is in use by another program, using ${ports.saltApi}`]);
    for (const name of names.filter((n) => n !== 'saltApi')) expect(ports[name]).toBe(usual[name]);
  });

  it('keeps a busy port when its own service holds it (a running stack keeps its ports)', async () => {
    const usual = await freeUsual();
    const held = await listenSomewhere();
    servers.push(held.server);
    usual.s3 = held.port;
    const ports = await choosePorts(
      portsFile,
      envFile,
      (name) => name === 's3',
      () => {},
      usual,
    );
    expect(ports.s3).toBe(held.port);
  });

  it('reuses the saved ports on the next up, over the usual ones', async () => {
    const saved = await freeUsual();
    writeFileSync(portsFile, JSON.stringify(saved));
    const ports = await choosePorts(
      portsFile,
      envFile,
      () => false,
      () => {},
      await freeUsual(),
    );
    expect(ports).toEqual(saved);
  });

  it('adopts the ports of a stack.env written before ports.json existed', () => {
    writeFileSync(
      envFile,
      [
        'SALT_API_URL=https://127.0.0.1:28000',
        'S3_ENDPOINT=http://127.0.0.1:29000',
        'MYSQL_PORT=23306',
        'REDIS_PORT=26379',
        'REDIS_TLS_PORT=26380',
        'SSH_PORT=22222',
        'AGENT_MINION_MASTER_PORT=24506',
        'AGENT_MINION_PUBLISH_PORT=24505',
      ].join('\n'),
    );
    expect(knownPorts(portsFile, envFile)).toEqual({
      saltPublish: 24505,
      saltRet: 24506,
      saltApi: 28000,
      s3: 29000,
      mysql: 23306,
      redis: 26379,
      redisTls: 26380,
      ssh: 22222,
    });
  });

  it('never gives two services one port, even when ports.json says so', async () => {
    const usual = await freeUsual();
    writeFileSync(portsFile, JSON.stringify({ ...usual, redisTls: usual.redis }));
    const ports = await choosePorts(
      portsFile,
      envFile,
      () => false,
      () => {},
      usual,
    );
    expect(new Set(Object.values(ports)).size).toBe(names.length);
  });

  it('status and down read the saved ports without choosing (the usual ones for a stack never started)', () => {
    expect(knownPorts(portsFile, envFile)).toEqual(DEFAULT_PORTS);
    writeFileSync(portsFile, JSON.stringify({ ...DEFAULT_PORTS, ssh: 12322, bogus: 1, mysql: 'x' }));
    expect(knownPorts(portsFile, envFile)).toEqual({ ...DEFAULT_PORTS, ssh: 12322 });
  });
});
