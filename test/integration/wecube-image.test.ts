/**
 * The WeCube plugin image, built without a Docker engine (scripts/lib/wecube-image.ts), unpacked layer by
 * layer into a directory and its ENTRYPOINT started under chroot as the image's user, with the image's Env
 * and the stack's salt-api settings: a JWT-authenticated host-info/query reaches the stack's salt-api
 * (127.0.0.1 is shared: same network namespace) and returns this host's real data. Needs root (chroot, and
 * mmdebstrap on the first build; later builds reuse the cached Debian root filesystem).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { sha256File } from '../../scripts/lib/docker-archive.js';
import { buildImage, IMAGE_PATHS, type ImageBuild } from '../../scripts/lib/wecube-image.js';
import { stackEnv } from '../support/stack.js';

const TAG = 'wecube-plugins-saltstack:test';
const dir = mkdtempSync(join(tmpdir(), 'wecube-image-'));
const archiveDir = join(dir, 'archive');
const rootfs = join(dir, 'rootfs');
let build: ImageBuild;
let buildMs = 0;

/** Runs a program (no shell) and returns its stdout; throws with its stderr. */
function run(program: string, args: string[]): string {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')}: exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}

const json = (path: string) => JSON.parse(readFileSync(join(archiveDir, path), 'utf8'));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const started = Date.now();
  build = await buildImage({ outFile: join(dir, 'image.tar'), workDir: join(dir, 'work'), tag: TAG });
  buildMs = Date.now() - started;
  mkdirSync(archiveDir);
  mkdirSync(rootfs);
  run('tar', ['-xf', join(dir, 'image.tar'), '-C', archiveDir]);
  // As docker does: each layer over the previous ones (these layers delete nothing: no whiteouts).
  for (const layer of json('manifest.json')[0].Layers as string[]) run('tar', ['--same-owner', '-xpf', join(archiveDir, layer), '-C', rootfs]);
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the plugin image archive', () => {
  it('is built within bounds (the Debian root filesystem is cached after the first build)', () => {
    process.stdout.write(
      `image build: ${buildMs} ms (rootfs ${build.rootfs.cached ? 'cached' : 'built'}), ${build.imageBytes} bytes, bundle ${build.bundleBytes} bytes\n`,
    );
    expect(buildMs).toBeLessThan(build.rootfs.cached ? 60_000 : 600_000);
    expect(build.bundleBytes).toBeLessThan(10 * 1024 * 1024);
  });

  it("holds manifest.json whose config's diff_ids are the sha256 of its layer tars", async () => {
    const [manifest] = json('manifest.json');
    expect(manifest.RepoTags).toEqual([TAG]);
    const config = json(manifest.Config);
    const digests = await Promise.all((manifest.Layers as string[]).map(async (l) => `sha256:${await sha256File(join(archiveDir, l))}`));
    expect(config.rootfs.diff_ids).toEqual(digests);
    expect(digests).toEqual(build.layerDigests);
    expect(config.config).toMatchObject({ User: '10001:10001', Entrypoint: [IMAGE_PATHS.node, IMAGE_PATHS.bundle], ExposedPorts: { '8082/tcp': {} } });
    expect(json('index.json').manifests[0].digest).toBe(build.manifestDigest);
  });

  it('unpacks to Debian bookworm with CA certificates, user app, the Node 22 binary and the bundle; no salt-master', () => {
    expect(readFileSync(join(rootfs, 'etc/os-release'), 'utf8')).toMatch(/VERSION_CODENAME=bookworm/);
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^app:x:10001:10001:.*:\/home\/app:\/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(readFileSync(join(rootfs, IMAGE_PATHS.node)).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(existsSync(join(rootfs, IMAGE_PATHS.bundle))).toBe(true);
    expect(existsSync(join(rootfs, IMAGE_PATHS.releaseAsl))).toBe(true);
    for (const absent of ['usr/bin/salt-master', 'usr/bin/salt-api', 'usr/bin/apt-get']) expect(existsSync(join(rootfs, absent))).toBe(false);
    expect(run('chroot', [rootfs, IMAGE_PATHS.node, '--version']).trim()).toMatch(/^v22\./);
  });
});

describe('the image started under chroot against the stack', () => {
  const key = randomBytes(64);
  let child: ChildProcess;
  let output = '';
  let url = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    const stack = stackEnv();
    // The stack's CA, inside the root filesystem: the server resolves SALT_API_CA_FILE in its chroot.
    copyFileSync(stack['SALT_API_CA_FILE']!, join(rootfs, 'etc/ssl/stack-ca.pem'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const [manifest] = json('manifest.json');
    const { config } = json(manifest.Config) as { config: { Env: string[]; Entrypoint: string[]; User: string } };
    child = spawn('chroot', [`--userspec=${config.User}`, rootfs, ...config.Entrypoint], {
      env: {
        ...Object.fromEntries(config.Env.map((e) => e.split(/=(.*)/s).slice(0, 2))),
        JWT_SIGNING_KEY: key.toString('base64'),
        SERVER_HOST: '127.0.0.1',
        SERVER_PORT: String(port),
        SALT_API_URL: stack['SALT_API_URL']!,
        SALT_API_EAUTH: stack['SALT_API_EAUTH']!,
        SALT_API_USER: stack['SALT_API_USER']!,
        SALT_API_PASSWORD: stack['SALT_API_PASSWORD']!,
        SALT_API_CA_FILE: '/etc/ssl/stack-ca.pem',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!output.includes('server listening')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 90_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  const token = () => new SignJWT({ authority: '[SUB_SYSTEM]' }).setProtectedHeader({ alg: 'HS512' }).setSubject('WECUBE').setExpirationTime('5m').sign(key);
  const hostInfo = (headers: Record<string, string>) =>
    fetch(`${url}/saltstack/v1/host-info/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ inputs: [{ guid: 'g-1', target: '127.0.0.1' }] }),
    });

  it('runs as the unprivileged user app (uid 10001)', () => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual(['10001', '10001']);
  });

  it('answers /healthz without a token', async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('refuses host-info/query without a token (401 Token illegal)', async () => {
    const response = await hostInfo({});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
  });

  it("answers a JWT-authenticated host-info/query for 127.0.0.1 with this host's CPUs and kernel, through the stack's salt-api", async () => {
    const response = await hostInfo({ authorization: `Bearer ${await token()}` });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { resultCode: string; results: { outputs: Array<Record<string, unknown>> } };
    expect(body.resultCode).toBe('0');
    const [out] = body.results.outputs;
    expect(out).toMatchObject({ guid: 'g-1', errorCode: '0' });
    expect(Number(out!['numCpus'])).toBe(Number(run('nproc', []).trim()));
    expect(out!['kernel']).toBe(`Linux ${run('uname', ['-r']).trim()}`);
  });

  it('stops on SIGTERM with exit 0 (docker stop)', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('server stopping');
  });
});
