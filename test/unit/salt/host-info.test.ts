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
    expect(info.diskTotal).toBe('258019');
  });

  it('lists only the /dev* mounts, with their usage fields as strings', () => {
    expect(info.diskMounts).toEqual([
      { filesystem: '/dev/vda', '1K-blocks': '264212084', used: '27219880', available: '79171032', capacity: '26%' },
    ]);
  });

  it('excludes lo from hwaddrInterfaces and sorts the names', () => {
    expect(info.hwaddrInterfaces).toEqual(['eth0', 'ifb0', 'ifb1']);
  });

  it('reads CPUs, memory, OS and kernel as strings', () => {
    expect(info).toMatchObject({ numCpus: '2', memTotal: '24105', os: 'Debian 12', kernel: 'Linux 6.18.44-fc-v657' });
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
    expect(info.diskTotal).toBe('2');
    expect(info.diskMounts.map((m) => m.filesystem)).toEqual(['/dev/sda1', '/dev/mapper/vg-data']);
  });

  it('does not fail on odd grain types (ip4_gw false, numbers, nulls, a missing hwaddr map)', () => {
    const odd = { ...grains(), ip4_gw: false, ip_gw: false, num_cpus: 8, mem_total: 2048.5, osrelease: 12, kernelrelease: null, hwaddr_interfaces: undefined };
    const info = summariseHost(odd, usage());
    expect(info).toMatchObject({ numCpus: '8', memTotal: '2048.5', os: 'Debian 12', kernel: 'Linux', hwaddrInterfaces: [] });
  });

  it.each([
    ['false', false],
    ['a string', 'eth0'],
    ['null', null],
  ])('gives no interfaces when hwaddr_interfaces is %s', (_name, hwaddr) => {
    expect(summariseHost({ hwaddr_interfaces: hwaddr }, {}).hwaddrInterfaces).toEqual([]);
  });

  it('skips disk.usage entries that are not objects and blocks that are not numbers', () => {
    const info = summariseHost({}, {
      '/': { filesystem: '/dev/sda1', '1K-blocks': '2048', used: '1', available: '1', capacity: '1%' },
      '/broken': 'not a dict',
      '/null': null,
      '/odd': { filesystem: '/dev/sdb1', '1K-blocks': '-', used: null, available: false, capacity: '' },
    });
    expect(info.diskTotal).toBe('2');
    expect(info.diskMounts).toHaveLength(2);
    expect(info.diskMounts[1]).toEqual({ filesystem: '/dev/sdb1', '1K-blocks': '-', used: '', available: '', capacity: '' });
  });

  it('gives empty strings and zero for an empty host', () => {
    expect(summariseHost({}, {})).toEqual({ numCpus: '', memTotal: '', diskTotal: '0', os: '', kernel: '', diskMounts: [], hwaddrInterfaces: [] });
  });
});

describe('host-info/query against a local fake salt-api', () => {
  let api: FakeSaltApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  it('runs one grains.items and one disk.usage job for all targets and reports an offline host alone', async () => {
    api = await new FakeSaltApi().start();
    const byFun: Record<string, unknown> = { 'grains.items': grains(), 'disk.usage': usage() };
    api.root = (chunks) => {
      const chunk = chunks[0] as { fun: string; tgt: string[] };
      return { body: { return: [{ '10.0.0.1': { ret: byFun[chunk.fun], retcode: 0, jid: '1' }, '10.0.0.2': false }] } };
    };
    const server = api;
    const salt = new SaltClient({ url: server.url, eauth: 'pam', username: server.user, password: server.password, timeoutMs: 2000, loginTimeoutMs: 2000 });
    const outputs = await runOperation(
      hostInfoQuery(() => salt),
      [
        { guid: 'g1', target: '10.0.0.1' },
        { guid: 'g2', target: '10.0.0.2' },
        { guid: 'g3', target: '10.0.0.1' },
        { guid: 'g4', target: "10.0.0.1'; id" },
      ],
      { logger: captureLogger().logger, signal: new AbortController().signal, concurrency: 5 },
    );
    expect(server.lowstateCalls).toHaveLength(2);
    expect(server.lowstateCalls.map((c) => (c.body as Array<{ fun: string; tgt: string[] }>)[0]).sort((a, b) => a!.fun.localeCompare(b!.fun))).toMatchObject([
      { fun: 'disk.usage', tgt: ['10.0.0.1', '10.0.0.2'], tgt_type: 'list' },
      { fun: 'grains.items', tgt: ['10.0.0.1', '10.0.0.2'], tgt_type: 'list' },
    ]);
    expect(outputs[0]).toMatchObject({ guid: 'g1', errorCode: '0', diskTotal: '258019', hwaddrInterfaces: ['eth0', 'ifb0', 'ifb1'] });
    expect(outputs[1]).toMatchObject({ guid: 'g2', errorCode: '1', errorType: 'E_NO_RETURN' });
    expect(String(outputs[1]!['errorMessage'])).toContain('10.0.0.2');
    expect(outputs[2]).toMatchObject({ guid: 'g3', errorCode: '0', os: 'Debian 12' });
    expect(outputs[3]).toMatchObject({ guid: 'g4', errorCode: '1', errorMessage: 'Parameter target validation failed: target contains an illegal character' });
  });
});
