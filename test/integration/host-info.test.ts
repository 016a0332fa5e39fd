import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { postJson, startServer, type RunningServer } from '../support/server.js';
import { stackEnv, stackMinions } from '../support/stack.js';

/** The same sum upstream makes: 1K-blocks of /dev* filesystems, in MB. */
function expectedDiskTotalMb(): number {
  const lines = execFileSync('df', ['-kP'], { encoding: 'utf8' }).split('\n').slice(1);
  const seen = new Set<string>();
  let kb = 0;
  for (const line of lines) {
    const [fs, blocks, , , , mount] = line.split(/\s+/);
    if (!fs?.startsWith('/dev') || seen.has(mount!)) continue;
    seen.add(mount!);
    kb += Number(blocks);
  }
  return Math.floor(kb / 1024);
}

describe('host-info/query over HTTP against the stack minions', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'off' });
  });
  afterAll(async () => {
    await server.stop();
    expect(server.output()).not.toContain(stackEnv()['SALT_API_PASSWORD']!);
  });

  it('describes both minions with facts that match this machine', async () => {
    const minions = stackMinions();
    const { status, body } = await postJson(server.url + '/saltstack/v1/host-info/query', {
      inputs: minions.map((target, i) => ({ guid: `g${i}`, target, callbackParameter: `cb${i}` })),
    });
    expect(status).toBe(200);
    expect(body['resultCode']).toBe('0');
    const outputs = body['results'].outputs as Array<Record<string, any>>;
    expect(outputs.map((o) => o['guid'])).toEqual(minions.map((_, i) => `g${i}`));
    for (const [i, o] of outputs.entries()) {
      expect(o['callbackParameter']).toBe(`cb${i}`);
      expect(o['numCpus']).toBe(cpus().length);
      expect(Math.abs(Number(o['memTotal']) - totalmem() / 1024 / 1024)).toBeLessThan(64);
      expect(o['kernel']).toBe(`Linux ${release()}`);
      expect(o['os']).toMatch(/^Debian \d+/);
      expect(o['diskMounts'].length).toBeGreaterThan(0);
      expect(Math.abs(Number(o['diskTotal']) - expectedDiskTotalMb())).toBeLessThanOrEqual(1);
      expect(o['hwaddrInterfaces']).not.toContain('lo');
    }
  });

  it('fails only the item whose host does not answer, with NO_RETURN', async () => {
    const [first] = stackMinions();
    const { body } = await postJson(server.url + '/v1/deploy/host-info/query', {
      inputs: [
        { guid: 'ok', target: first },
        { guid: 'ghost', target: '10.255.255.252' },
        { guid: 'empty', target: '' },
      ],
    });
    expect(body['resultCode']).toBe('1');
    const [ok, ghost, empty] = body['results'].outputs as Array<Record<string, any>>;
    expect(ok).toMatchObject({ guid: 'ok', errorCode: '0', numCpus: cpus().length });
    expect(ghost).toMatchObject({
      guid: 'ghost',
      errorCode: '1',
      errorType: 'E_NO_RETURN',
      numCpus: 0,
      memTotal: 0,
      diskTotal: 0,
      os: '',
      kernel: '',
      diskMounts: null,
      hwaddrInterfaces: [],
    });
    expect(ghost!['errorMessage']).toMatch(/^Cannot connect to target 10\.255\.255\.252\./);
    expect(empty).toMatchObject({ guid: 'empty', errorCode: '1', errorMessage: 'Parameter target can not empty.' });
    expect(body['resultMessage']).toContain('guid ghost');
    expect(body['resultMessage']).toContain('guid empty');
  });
});

describe('salt-api/call', () => {
  it('is refused unless SALT_API_CALL_ENABLED is set', async () => {
    const server = await startServer({ AUTH_MODE: 'off' });
    try {
      const { body } = await postJson(server.url + '/saltstack/v1/salt-api/call', {
        inputs: [{ guid: 'c', client: 'local', target: stackMinions()[0], function: 'test.ping' }],
      });
      expect(body['results'].outputs[0]).toMatchObject({ errorCode: '1', errorType: 'E_DISABLED' });
    } finally {
      await server.stop();
    }
  });

  it('passes a lowstate through when enabled, targeting a list', async () => {
    const server = await startServer({ AUTH_MODE: 'off', SALT_API_CALL_ENABLED: 'true' });
    try {
      const minions = stackMinions();
      const { body } = await postJson(server.url + '/saltstack/v1/salt-api/call', {
        inputs: [
          { guid: 'ping', client: 'local', target: minions.join(','), function: 'test.ping' },
          { guid: 'keys', client: 'wheel', function: 'key.list_all' },
        ],
      });
      expect(body['resultCode']).toBe('0');
      const [ping, keys] = body['results'].outputs as Array<{ detail: string }>;
      const pinged = JSON.parse(ping!.detail).return[0];
      for (const m of minions) expect(pinged[m]).toMatchObject({ ret: true, retcode: 0 });
      expect(JSON.parse(keys!.detail).return[0].data.return.minions).toEqual(expect.arrayContaining(minions));
    } finally {
      await server.stop();
    }
  });
});

describe('host-info/query when salt-api cannot be reached', () => {
  it('fails each item with E_SALT_UNAVAILABLE inside a normal envelope', async () => {
    const server = await startServer({ AUTH_MODE: 'off', SALT_API_URL: 'https://127.0.0.1:9', SALT_API_LOGIN_TIMEOUT_MS: '2000' });
    try {
      const { status, body } = await postJson(server.url + '/saltstack/v1/host-info/query', {
        inputs: [
          { guid: 'a', target: '127.0.0.1' },
          { guid: 'b', target: '127.0.0.2' },
        ],
      });
      expect(status).toBe(200);
      expect(body['resultCode']).toBe('1');
      for (const output of body['results'].outputs as Array<Record<string, string>>) {
        expect(output).toMatchObject({ errorCode: '1', errorType: 'E_SALT_UNAVAILABLE' });
        expect(output['errorMessage']).toMatch(/salt-api at https:\/\/127\.0\.0\.1:9 could not be reached/);
      }
    } finally {
      await server.stop();
    }
  });
});
