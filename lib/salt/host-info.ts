import { z } from 'zod';
import { commonFields, safeToken } from '../wecube/fields.js';
import { defineOperation, type ItemOutcome } from '../wecube/operation.js';
import { hostError } from './host-error.js';
import type { HostResult } from './normalise-result.js';
import type { SaltClient } from './salt-client.js';

const diskMount = z.object({
  filesystem: z.string(),
  '1K-blocks': z.string(),
  used: z.string(),
  available: z.string(),
  capacity: z.string(),
});

const output = z.object({
  numCpus: z.string(),
  memTotal: z.string().describe('MB'),
  diskTotal: z.string().describe('MB, sum of /dev* filesystems'),
  os: z.string(),
  kernel: z.string(),
  diskMounts: z.array(diskMount),
  hwaddrInterfaces: z.array(z.string()),
});
type HostInfo = z.infer<typeof output>;

const text = (v: unknown): string => (v === undefined || v === null || v === false ? '' : String(v));

/** Shapes grains.items + disk.usage into upstream's outputs, tolerant of grain type variations. */
export function summariseHost(grains: Record<string, unknown>, usage: Record<string, unknown>): HostInfo {
  const mounts = Object.values(usage)
    .filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null)
    .filter((m) => text(m['filesystem']).startsWith('/dev'))
    .map((m) => ({
      filesystem: text(m['filesystem']),
      '1K-blocks': text(m['1K-blocks']),
      used: text(m['used']),
      available: text(m['available']),
      capacity: text(m['capacity']),
    }));
  const totalKb = mounts.reduce((sum, m) => sum + (Number(m['1K-blocks']) || 0), 0);
  const hwaddr = grains['hwaddr_interfaces'];
  return {
    numCpus: text(grains['num_cpus']),
    memTotal: text(grains['mem_total']),
    diskTotal: String(Math.floor(totalKb / 1024)),
    os: [text(grains['os']), text(grains['osrelease'])].filter(Boolean).join(' '),
    kernel: [text(grains['kernel']), text(grains['kernelrelease'])].filter(Boolean).join(' '),
    diskMounts: mounts,
    hwaddrInterfaces:
      hwaddr && typeof hwaddr === 'object' ? Object.keys(hwaddr).filter((name) => name !== 'lo').sort() : [],
  };
}

const asRecord = (r: HostResult) => (r.ret && typeof r.ret === 'object' ? (r.ret as Record<string, unknown>) : {});

/** host-info/query: one grains.items job and one disk.usage job for all targets of the request. */
export const hostInfoQuery = (salt: () => SaltClient) =>
  defineOperation({
    plugin: 'host-info',
    action: 'query',
    summary: 'CPU, memory, disks, OS, kernel and NICs of hosts (one salt job per function for all targets)',
    input: z.object({ ...commonFields, target: safeToken('target') }),
    output,
    run: async (items, ctx): Promise<ItemOutcome<HostInfo>[]> => {
      const tgt = [...new Set(items.map((i) => i.target))];
      const call = { tgt, timeout: 5, gatherJobTimeout: 5 };
      const signal = { signal: ctx.signal, normalise: { expectObject: true } };
      const [grains, usage] = await Promise.all([
        salt().local({ ...call, fun: 'grains.items' }, signal),
        salt().local({ ...call, fun: 'disk.usage' }, signal),
      ]);
      const grainsBy = new Map(grains.map((r) => [r.host, r]));
      const usageBy = new Map(usage.map((r) => [r.host, r]));
      return items.map((item) => {
        const g = grainsBy.get(item.target)!;
        const u = usageBy.get(item.target)!;
        const failed = !g.ok ? g : !u.ok ? u : undefined;
        if (failed) return { ok: false, error: hostError(failed) };
        return { ok: true, output: summariseHost(asRecord(g), asRecord(u)) };
      });
    },
  });
