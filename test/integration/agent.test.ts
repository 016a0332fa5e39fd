import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { encodeCipherA } from '../../lib/crypto/cipher-a.js';
import type { Runtime } from '../../lib/runtime.js';
import { rand } from '../support/host-script.js';
import { NETNS_GATEWAY_IP, NETNS_SILENT_IP, startNetnsHost, type NetnsHost } from '../support/netns-host.js';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { capturedLogs, stackEnv, stackRuntime } from '../support/stack.js';

// The seed's example (README-seed.txt): guid 1234, seed abc12345, the legacy unprefixed ciphertext of qq123456.
const SEED_ITEM = { guid: '1234', seed: 'abc12345', password: '251f54c3f5be75e171ae1eb516dbacd9' };
const SEED_PASSWORD = 'qq123456';

type Keys = Record<string, string[]>;

describe('agent/install and agent/uninstall on a separate host (network namespace + sshd)', () => {
  const env = stackEnv();
  let host: NetnsHost;
  let server: RunningServer;
  let rt: Runtime;
  let web: Server;
  const s3Port = Number(new URL(env['S3_ENDPOINT']!).port);
  // this checkout's master ports (the stack chooses them per checkout: .stack/ports.json)
  const masterPort = Number(env['AGENT_MINION_MASTER_PORT']);
  const publishPort = Number(env['AGENT_MINION_PUBLISH_PORT']);
  let webPort = 0;
  const bundleKey = `it-agent/${rand()}/minion-bundle.tar.gz`;
  const preMarker = `/tmp/agent-pre-${rand()}`;
  const keys = async () => (await rt.salt().wheel('key.list_all')) as Keys;
  const keyStates = async (id: string) => Object.entries(await keys()).flatMap(([state, ids]) => (state !== 'local' && ids.includes(id) ? [state] : []));
  const post = (action: string, items: unknown[]) => postJson(`${server.url}/v1/deploy/agent/${action}`, { inputs: items });
  const asSudoUser = () => ({ ...SEED_ITEM, host: host.ip, user: host.sudoUser.name, method: 'preinstalled' });

  beforeAll(async () => {
    // the master's ports and S3 are reached from the namespace through forwarders on the gateway address
    host = await startNetnsHost([publishPort, masterPort, s3Port]);
    // a stand-in for the salt bootstrap script, served on the gateway: records its arguments and whether the pre-command ran first
    web = createServer((req, res) => {
      if (req.url !== '/bootstrap-salt.sh') return void res.writeHead(404).end();
      res.end(`#!/bin/sh\n{ echo "args: $*"; [ -f ${preMarker} ] && echo pre-command-first; id -u; } > ${host.dir}/bootstrap-ran\n`);
    });
    await new Promise<void>((resolve) => web.listen(0, NETNS_GATEWAY_IP, resolve));
    webPort = (web.address() as { port: number }).port;
    // the seed's ciphertext decrypts to qq123456: that is the sudo user's password
    execFileSync('chpasswd', [], { input: `${host.sudoUser.name}:${SEED_PASSWORD}\n` });
    host.sudoUser.password = SEED_PASSWORD;
    rt = stackRuntime();
    await rt.salt().wheel('key.delete', { match: host.ip });
    server = await startServer({
      AUTH_MODE: 'off',
      AGENT_MINION_MASTERS: '10.123.45.1',
      AGENT_MINION_MASTER_PORT: String(masterPort),
      AGENT_MINION_PUBLISH_PORT: String(publishPort),
      AGENT_MINION_CONFIG_DIR: host.minionDir,
      AGENT_MINION_BIN: `${env['SALT_VENV']}/bin/salt-minion`,
      AGENT_INSTALL_METHOD: 'preinstalled',
      AGENT_KEY_WAIT_S: '20',
      AGENT_PING_WAIT_S: '45',
      AGENT_COMMAND_TIMEOUT_S: '60',
      SSH_CONNECT_TIMEOUT_MS: '3000',
      AGENT_BOOTSTRAP_URL: `http://${NETNS_GATEWAY_IP}:${webPort}/bootstrap-salt.sh`,
      AGENT_BUNDLE_URL: `s3://artifacts/${bundleKey}`,
      S3_ENDPOINT: `http://${NETNS_GATEWAY_IP}:${s3Port}`,
      SSH_KNOWN_HOSTS_PREFIX: `it-agent-known-hosts/${rand()}/`,
      LOG_LEVEL: 'debug',
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => web?.close(r));
    rmSync(preMarker, { force: true });
    await rt
      ?.store()
      .remove({ bucket: 'artifacts', key: bundleKey, url: bundleKey })
      .catch(() => undefined);
    await host?.stop();
    await rt?.salt().wheel('key.delete', { match: '10.123.45.*' });
    const logs = server?.output() ?? '';
    expect(logs).not.toContain(SEED_PASSWORD);
    expect(logs).not.toContain(host.noSudoUser.password);
    expect(capturedLogs.join('\n')).not.toContain(SEED_PASSWORD);
  }, 60_000);

  it('installs with the seed JSON shape as a sudo user, accepts the key by fingerprint, and the minion answers through salt-api', async () => {
    const seen: string[] = [];
    const ps = setInterval(() => {
      try {
        seen.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
      } catch {
        // a ps racing a dying process
      }
    }, 100);
    let res;
    try {
      res = await post('install', [asSudoUser()]);
    } finally {
      clearInterval(ps);
    }
    const out = res.body['results']['outputs'][0];
    expect(out).toMatchObject({ guid: '1234', errorCode: '0', host: host.ip, minionId: host.ip, keyStatus: 'accepted', hostKeyStatus: 'recorded' });
    expect(out.detail).toMatch(/sudo ok.*key .* accepted; test\.ping answered/);

    // the minion runs inside the namespace with the config the operation wrote
    const pid = host.minionPid();
    expect(pid).toBeDefined();
    expect(execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim()).toBe('saltagent-it');
    const config = execFileSync('cat', [`${host.minionDir}/minion`], { encoding: 'utf8' });
    expect(config).toContain(`id: "${host.ip}"`);
    expect(config).toContain(`master_port: ${masterPort}`);

    // accepted by fingerprint: the master's copy has the fingerprint the operation read from the host
    expect(await keyStates(host.ip)).toEqual(['minions']);
    const finger = (await rt.salt().wheel('key.finger', { match: host.ip })) as { minions: Record<string, string> };
    expect(finger.minions[host.ip]).toBe(out.keyFingerprint);

    const ping = await rt.salt().local({ fun: 'test.ping', tgt: [host.ip], timeout: 10 });
    expect(ping[0]).toMatchObject({ ok: true, ret: true });
    const grains = await rt.salt().local({ fun: 'grains.item', tgt: [host.ip], arg: ['ipv4'], timeout: 10 });
    expect((grains[0]!.ret as { ipv4: string[] }).ipv4).toContain(host.ip);
    const info = (await postJson(`${server.url}/saltstack/v1/host-info/query`, { inputs: [{ guid: 'hi', target: host.ip }] })).body['results']['outputs'][0];
    expect(info).toMatchObject({ errorCode: '0', guid: 'hi' });
    expect(Number(info.numCpus)).toBeGreaterThan(0);

    // the password was never in a process list (sudo reads it on stdin)
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.join('\n')).not.toContain(SEED_PASSWORD);
  }, 180_000);

  it('a second install of the same host finds its key already accepted', async () => {
    const res = await post('install', [asSudoUser()]);
    const out = res.body['results']['outputs'][0];
    expect(out).toMatchObject({ errorCode: '0', keyStatus: 'known', hostKeyStatus: 'known' });
    expect(await keyStates(host.ip)).toEqual(['minions']);
  }, 180_000);

  it('replaces an accepted key whose fingerprint changed (a re-imaged host) with the key read over SSH, without reinstall', async () => {
    // the host loses its minion key, as after a re-image
    process.kill(host.minionPid()!, 'SIGTERM');
    for (let i = 0; i < 50 && host.minionPid(); i++) await new Promise((r) => setTimeout(r, 100));
    execFileSync('rm', ['-rf', `${host.minionDir}/pki/minion`]);
    const before = (await rt.salt().wheel('key.finger', { match: host.ip })) as { minions: Record<string, string> };
    expect(before.minions[host.ip]).toMatch(/:/);

    // what WeCube sends: no reinstall flag
    const replaced = (await post('install', [asSudoUser()])).body['results']['outputs'][0];
    expect(replaced).toMatchObject({ errorCode: '0', keyStatus: 'replaced' });
    expect(replaced.keyFingerprint).not.toBe(before.minions[host.ip]);
    expect(replaced.detail).toContain(`the master's key for ${host.ip} (fingerprint ${before.minions[host.ip]}) was not the host's: replaced`);
    const now = (await rt.salt().wheel('key.finger', { match: host.ip })) as { minions: Record<string, string> };
    expect(now.minions[host.ip]).toBe(replaced.keyFingerprint);
    expect((await rt.salt().local({ fun: 'test.ping', tgt: [host.ip], timeout: 10 }))[0]).toMatchObject({ ok: true, ret: true });
  }, 240_000);

  it('uninstall stops the minion, removes its files and deletes its key; a second uninstall is a no-op success', async () => {
    const pid = host.minionPid()!;
    const res = await post('uninstall', [asSudoUser()]);
    const out = res.body['results']['outputs'][0];
    expect(out).toMatchObject({ guid: '1234', errorCode: '0', keyDeleted: true });
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(`${host.minionDir}/minion`)).toBe(false);
    expect(existsSync(`${host.minionDir}/pki/minion`)).toBe(false);
    expect(await keyStates(host.ip)).toEqual([]);

    const again = (await post('uninstall', [asSudoUser()])).body['results']['outputs'][0];
    expect(again).toMatchObject({ errorCode: '0', keyDeleted: true });
  }, 120_000);

  it('a wrong password, an unreachable host and a refused sudo each fail their own item with a precise error and leave no key', async () => {
    const res = await post('install', [
      { ...asSudoUser(), password: encodeCipherA('1234', 'abc12345', 'not-the-password') },
      { ...asSudoUser(), host: NETNS_SILENT_IP },
      { ...asSudoUser(), user: host.noSudoUser.name, password: host.noSudoUser.password },
    ]);
    const [wrong, unreachable, noSudo] = res.body['results']['outputs'];
    expect(wrong).toMatchObject({ errorCode: '1', errorType: 'E_INPUT' });
    expect(wrong.errorMessage).toContain(`SSH login as ${host.sudoUser.name} to ${host.ip}:22 was refused`);
    expect(unreachable).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(unreachable.errorMessage).toContain(`Cannot connect to target ${NETNS_SILENT_IP}`);
    expect(noSudo).toMatchObject({ errorCode: '1', errorType: 'E_AGENT_INSTALL' });
    expect(noSudo.errorMessage).toContain(`sudo was refused for ${host.noSudoUser.name} on ${host.ip}`);
    expect(host.minionPid()).toBeUndefined();
    expect(await keyStates(host.ip)).toEqual([]);
    expect(await keyStates(NETNS_SILENT_IP)).toEqual([]);
  }, 120_000);

  it('refuses a pending key whose fingerprint is not the one read from the host, and accepts nothing', async () => {
    // another machine claiming the id: a different public key pending under the host's id
    const pki = execFileSync('find', [env['SALT_MASTER_CONFIG_DIR']!.replace(/etc$/, 'master'), '-maxdepth', '2', '-type', 'd', '-name', 'minions_pre'], {
      encoding: 'utf8',
    }).trim();
    const fake = execFileSync('openssl', ['genrsa', '2048'], { encoding: 'utf8' });
    const pub = execFileSync('openssl', ['rsa', '-pubout'], { input: fake, encoding: 'utf8' });
    execFileSync('tee', [`${pki}/${host.ip}`], { input: pub, stdio: ['pipe', 'ignore', 'inherit'] });
    expect(await keyStates(host.ip)).toEqual(['minions_pre']);

    const res = await post('install', [asSudoUser()]);
    const out = res.body['results']['outputs'][0];
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_AGENT_KEY' });
    expect(out.errorMessage).toContain(`The pending key for ${host.ip} on the master has fingerprint`);
    expect(out.errorMessage).toContain(out.keyFingerprint);
    expect(await keyStates(host.ip)).not.toContain('minions');

    await rt.salt().wheel('key.delete', { match: host.ip });
    await post('uninstall', [asSudoUser()]);
    expect(host.minionPid()).toBeUndefined();
  }, 120_000);

  it('bootstrap: runs the caller’s pre-command as the login user, then the bootstrap script from AGENT_BOOTSTRAP_URL as root (-X stable), then configures and starts', async () => {
    const res = await post('install', [{ ...asSudoUser(), method: 'bootstrap', command: `touch ${preMarker}` }]);
    const out = res.body['results']['outputs'][0];
    expect(out).toMatchObject({ errorCode: '0', method: 'bootstrap', keyStatus: 'accepted' });
    expect(out.detail).toContain('pre-command ok');
    expect(statSync(preMarker).uid).toBe(Number(execFileSync('id', ['-u', host.sudoUser.name], { encoding: 'utf8' })));
    expect(readFileSync(`${host.dir}/bootstrap-ran`, 'utf8').split('\n')).toEqual(['args: -X stable', 'pre-command-first', '0', '']);
    expect((await rt.salt().local({ fun: 'test.ping', tgt: [host.ip], timeout: 10 }))[0]).toMatchObject({ ok: true, ret: true });

    const removed = (await post('uninstall', [{ ...asSudoUser(), method: 'bootstrap' }])).body['results']['outputs'][0];
    expect(removed).toMatchObject({ errorCode: '0', keyDeleted: true });
    expect(host.minionPid()).toBeUndefined();
    expect(await keyStates(host.ip)).toEqual([]);
  }, 180_000);

  it('bundle: fetches the offline bundle from a presigned S3 URL, runs its install.sh as root, then configures and starts', async () => {
    const src = mkdtempSync('/tmp/agent-bundle-');
    writeFileSync(`${src}/install.sh`, `#!/bin/sh\n{ pwd; id -u; } > ${host.dir}/bundle-ran\n`);
    const tgz = execFileSync('tar', ['-czf', '-', '-C', src, 'install.sh']);
    rmSync(src, { recursive: true, force: true });
    await rt.store().put({ bucket: 'artifacts', key: bundleKey, url: bundleKey }, Readable.from([tgz]));

    const out = (await post('install', [{ ...asSudoUser(), method: 'offline' }])).body['results']['outputs'][0];
    expect(out).toMatchObject({ errorCode: '0', method: 'bundle', keyStatus: 'accepted' });
    const [cwd, uid] = readFileSync(`${host.dir}/bundle-ran`, 'utf8').trim().split('\n');
    expect(uid).toBe('0');
    expect(existsSync(cwd!)).toBe(false); // the unpacked bundle was removed
    expect((await rt.salt().local({ fun: 'test.ping', tgt: [host.ip], timeout: 10 }))[0]).toMatchObject({ ok: true, ret: true });

    const removed = (await post('uninstall', [{ ...asSudoUser(), method: 'bundle' }])).body['results']['outputs'][0];
    expect(removed).toMatchObject({ errorCode: '0', keyDeleted: true });
    expect(host.minionPid()).toBeUndefined();
  }, 180_000);

  it('root with passwordType=key: the {cipher_a} private key (newlines as \\n) logs in, no sudo, install and uninstall', async () => {
    const key = encodeCipherA('1234', 'abc12345', host.rootKey.replace(/\n/g, '\\n'));
    const item = { guid: '1234', seed: 'abc12345', host: host.ip, user: 'root', passwordType: 'key', password: key, method: 'preinstalled' };
    const out = (await post('install', [item])).body['results']['outputs'][0];
    expect(out).toMatchObject({ errorCode: '0', keyStatus: 'accepted' });
    expect(out.detail).not.toContain('sudo');
    expect((await rt.salt().local({ fun: 'test.ping', tgt: [host.ip], timeout: 10 }))[0]).toMatchObject({ ok: true, ret: true });
    const removed = (await post('uninstall', [item])).body['results']['outputs'][0];
    expect(removed).toMatchObject({ errorCode: '0', keyDeleted: true });
    expect(host.minionPid()).toBeUndefined();
    expect(server.output()).not.toContain(host.rootKey.split('\n')[1]!);
  }, 180_000);
});
