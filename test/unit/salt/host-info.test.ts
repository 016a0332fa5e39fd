import { afterEach, describe, expect, it } from '@jest/globals';
import { hostInfoQuery, summariseHost } from '../../../lib/salt/host-info.js';
import { SaltClient } from '../../../lib/salt/salt-client.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { captureLogger, sampleReturn } from '../helpers.js';
import { FakeSaltApi } from './fake-salt-api.js';

const grains = () => sampleReturn('081')['minion-a'] as Record<string, unknown>;
const usage = () => sampleReturn('076')['minion-a'] as Record<string, unknown>;

describe('summariseHost on the captured grains.items (081) and disk.usage (076)', () => {
  const info = summariseHost(grains(), usage());

  it('sums only /dev* filesystems and gives floor(1K-blocks / 1024) MB', () => {
    // 076 has one /dev* filesystem (/dev/vda, 264212084 1K-blocks); devtmpfs and tmpfs are not counted.
    expect(info.diskTotal).toBe(258019);
  });

  it('lists only the /dev* mounts, with their usage fields as strings', () => {
    expect(info.diskMounts).toEqual([{ filesystem: '/dev/vda', '1K-blocks': '264212084', used: '27219880', available: '79171032', capacity: '26%' }]);
  });

  it('excludes lo from hwaddrInterfaces and sorts the names', () => {
    expect(info.hwaddrInterfaces).toEqual(['eth0', 'ifb0', 'ifb1']);
  });

  it('reads CPUs, memory, OS and kernel as strings', () => {
    expect(info).toMatchObject({ numCpus: 2, memTotal: 24105, os: 'Debian 12', kernel: 'Linux 6.18.44-fc-v657' });
  });
});

describe('summariseHost with other shapes', () => {
  it('adds up several /dev* filesystems before rounding down', () => {
    const info = summariseHost(grains(), {
      '/': { filesystem: '/dev/sda1', '1K-blocks': '1536', used: '0', available: '0', capacity: '0%' },
      '/data': { filesystem: '/dev/mapper/vg-data', '1K-blocks': '1535', used: '0', available: '0', capacity: '0%' },
      '/run': { filesystem: 'tmpfs', '1K-blocks': '999999', used: '0', available: '0', capacity: '0%' },
    });
    // (1536 + 1535) / 1024 = 2.999: floor, not round.
    expect(info.diskTotal).toBe(2);
    expect(info.diskMounts!.map((m) => m.filesystem)).toEqual(['/dev/sda1', '/dev/mapper/vg-data']);
  });

  it('does not fail on odd grain types (ip4_gw false, numbers, nulls, a missing hwaddr map)', () => {
    const odd = { ...grains(), ip4_gw: false, ip_gw: false, num_cpus: 8, mem_total: 2048.5, osrelease: 12, kernelrelease: null, hwaddr_interfaces: undefined };
    const info = summariseHost(odd, usage());
    expect(info).toMatchObject({ numCpus: 8, memTotal: 2048.5, os: 'Debian 12', kernel: 'Linux', hwaddrInterfaces: [] });
  });

  it.each([
    ['false', false],
    ['a string', 'eth0'],
    ['null', null],
  ])('gives no interfaces when hwaddr_interfaces is %s', (_name, hwaddr) => {
    expect(summariseHost({ hwaddr_interfaces: hwaddr }, {}).hwaddrInterfaces).toEqual([]);
  });

  it('skips disk.usage entries that are not objects and blocks that are not numbers', () => {
    const info = summariseHost(
      {},
      {
        '/': { filesystem: '/dev/sda1', '1K-blocks': '2048', used: '1', available: '1', capacity: '1%' },
        '/broken': 'not a dict',
        '/null': null,
        '/odd': { filesystem: '/dev/sdb1', '1K-blocks': '-', used: null, available: false, capacity: '' },
      },
    );
    expect(info.diskTotal).toBe(2);
    expect(info.diskMounts).toHaveLength(2);
    expect(info.diskMounts![1]).toEqual({ filesystem: '/dev/sdb1', '1K-blocks': '-', used: '', available: '', capacity: '' });
  });

  it('gives empty strings and zeros for an empty host', () => {
    expect(summariseHost({}, {})).toEqual({ numCpus: 0, memTotal: 0, diskTotal: 0, os: '', kernel: '', diskMounts: [], hwaddrInterfaces: [] });
  });
});

describe('host-info/query against a local fake salt-api', () => {
  let api: FakeSaltApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  const clientOf = (server: FakeSaltApi) =>
    new SaltClient({ url: server.url, eauth: 'pam', username: server.user, password: server.password, timeoutMs: 2000, loginTimeoutMs: 2000 });
  const ctx = () => ({ logger: captureLogger().logger, signal: new AbortController().signal, concurrency: 5 });
  type Chunk = { client: string; fun: string; tgt: string | string[] };
  const funs = (server: FakeSaltApi) =>
    server.lowstateCalls
      .map((c) => (c.body as Chunk[])[0]!)
      .map((c) => `${c.fun} ${[c.tgt].flat().join(',')}`)
      .sort();

  /** A fake whose master cache knows `cached` hosts; 10.0.0.2 is offline; replies after `delayMs`. */
  async function fakeMaster(cached: string[], delayMs = 0) {
    const server = await new FakeSaltApi().start();
    const byFun: Record<string, unknown> = { 'grains.items': grains(), 'disk.usage': usage() };
    server.root = async (chunks) => {
      const chunk = chunks[0] as Chunk;
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (chunk.client === 'runner') return { body: { return: [Object.fromEntries(cached.map((h) => [h, { ...grains(), os: 'CachedOS' }]))] } };
      const hosts = [chunk.tgt].flat();
      return { body: { return: [Object.fromEntries(hosts.map((h) => [h, h === '10.0.0.2' ? false : { ret: byFun[chunk.fun], retcode: 0, jid: '1' }]))] } };
    };
    return server;
  }

  it('asks the minions for grains only when the master cache does not know them; one disk.usage job for all targets', async () => {
    api = await fakeMaster([]);
    const salt = clientOf(api);
    const outputs = await runOperation(
      hostInfoQuery(() => salt),
      [
        { guid: 'g1', target: '10.0.0.1' },
        { guid: 'g2', target: '10.0.0.2' },
        { guid: 'g3', target: '10.0.0.1' },
        { guid: 'g4', target: "10.0.0.1'; id" },
      ],
      ctx(),
    );
    expect(funs(api)).toEqual(['cache.grains 10.0.0.1,10.0.0.2', 'disk.usage 10.0.0.1,10.0.0.2', 'grains.items 10.0.0.1,10.0.0.2']);
    expect(outputs[0]).toMatchObject({ guid: 'g1', errorCode: '0', diskTotal: 258019, hwaddrInterfaces: ['eth0', 'ifb0', 'ifb1'], os: 'Debian 12' });
    expect(outputs[1]).toMatchObject({ guid: 'g2', errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(String(outputs[1]!['errorMessage'])).toContain('10.0.0.2');
    expect(outputs[2]).toMatchObject({ guid: 'g3', errorCode: '0', os: 'Debian 12' });
    expect(outputs[3]).toMatchObject({ guid: 'g4', errorCode: '1', errorMessage: 'Parameter target validation failed: target contains an illegal character' });
  });

  it('answers grains from the master cache without a grains job; fresh=true asks the minion', async () => {
    api = await fakeMaster(['10.0.0.1', '10.0.0.3']);
    const salt = clientOf(api);
    const cachedOut = await runOperation(
      hostInfoQuery(() => salt),
      [
        { guid: 'a', target: '10.0.0.1' },
        { guid: 'b', target: '10.0.0.3' },
      ],
      ctx(),
    );
    expect(funs(api)).toEqual(['cache.grains 10.0.0.1,10.0.0.3', 'disk.usage 10.0.0.1,10.0.0.3']);
    expect(cachedOut.map((o) => [o['errorCode'], o['os']])).toEqual([
      ['0', 'CachedOS 12'],
      ['0', 'CachedOS 12'],
    ]);
    api.received.length = 0;
    const freshOut = await runOperation(
      hostInfoQuery(() => salt),
      [
        { guid: 'a', target: '10.0.0.1', fresh: 'true' },
        { guid: 'b', target: '10.0.0.3' },
      ],
      ctx(),
    );
    expect(funs(api)).toEqual(['cache.grains 10.0.0.3', 'disk.usage 10.0.0.1,10.0.0.3', 'grains.items 10.0.0.1']);
    expect(freshOut.map((o) => o['os'])).toEqual(['Debian 12', 'CachedOS 12']);
  });

  it('a cached but offline host still fails: disk.usage is asked of the minion', async () => {
    api = await fakeMaster(['10.0.0.2']);
    const salt = clientOf(api);
    const [out] = await runOperation(
      hostInfoQuery(() => salt),
      [{ guid: 'x', target: '10.0.0.2' }],
      ctx(),
    );
    expect(out).toMatchObject({ errorCode: '1', errorType: 'E_NO_RETURN' });
  });

  it('concurrent requests for the same minion share its disk.usage and grains jobs', async () => {
    api = await fakeMaster([], 150);
    const salt = clientOf(api);
    const op = hostInfoQuery(() => salt);
    const outs = await Promise.all([
      runOperation(op, [{ guid: 'a', target: '10.0.0.1' }], ctx()),
      runOperation(
        op,
        [
          { guid: 'b', target: '10.0.0.1' },
          { guid: 'c', target: '10.0.0.3' },
        ],
        ctx(),
      ),
      runOperation(op, [{ guid: 'd', target: '10.0.0.1' }], ctx()),
    ]);
    expect(outs.flat().map((o) => o['errorCode'])).toEqual(['0', '0', '0', '0']);
    const jobs = funs(api).filter((f) => !f.startsWith('cache.grains'));
    // 10.0.0.1 once for each function, whatever the number of requests; 10.0.0.3 joined later, on its own.
    expect(
      jobs
        .filter((j) => j.startsWith('disk.usage'))
        .join(' ')
        .match(/10\.0\.0\.1/g),
    ).toHaveLength(1);
    expect(
      jobs
        .filter((j) => j.startsWith('grains.items'))
        .join(' ')
        .match(/10\.0\.0\.1/g),
    ).toHaveLength(1);
  });

  it('falls back to grains jobs when the master refuses the runner', async () => {
    api = await new FakeSaltApi().start();
    api.root = (chunks) => {
      const chunk = chunks[0] as Chunk;
      if (chunk.client === 'runner') return { status: 401, body: { return: 'runner client disabled' } };
      return { body: { return: [{ '10.0.0.1': { ret: chunk.fun === 'grains.items' ? grains() : usage(), retcode: 0, jid: '1' } }] } };
    };
    const salt = clientOf(api);
    const [out] = await runOperation(
      hostInfoQuery(() => salt),
      [{ guid: 'a', target: '10.0.0.1' }],
      ctx(),
    );
    expect(out).toMatchObject({ errorCode: '0', os: 'Debian 12' });
  });
});
