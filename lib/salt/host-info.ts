import { z } from 'zod';
import { commonFields, safeToken } from '../input/fields.js';
import { defineOperation, type ItemOutcome } from '../wecube/operation.js';
import { hostError } from './host-error.js';
import { normaliseHostReturn, type HostResult } from './normalise-result.js';
import type { SaltClient } from './salt-client.js';
import { SharedCalls } from './shared-calls.js';

const diskMount = z.object({
  filesystem: z.string(),
  '1K-blocks': z.string(),
  used: z.string(),
  available: z.string(),
  capacity: z.string(),
});

const output = z.object({
  // Numbers, as upstream's Go struct and register.xml send them (0 when the grain is missing).
  numCpus: z.number().describe('grain num_cpus'),
  memTotal: z.number().describe('MB (grain mem_total)'),
  diskTotal: z.number().describe('MB, sum of the /dev* filesystems (1K-blocks / 1024, rounded down)'),
  os: z.string(),
  kernel: z.string(),
  diskMounts: z.array(diskMount).nullable().describe('null when the host could not be asked'),
  hwaddrInterfaces: z.array(z.string()),
});
type HostInfo = z.infer<typeof output>;

/** A numeric grain (a number or a numeric string); 0 when missing or unreadable. */
const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
};
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
    numCpus: num(grains['num_cpus']),
    memTotal: num(grains['mem_total']),
    diskTotal: Math.floor(totalKb / 1024),
    os: [text(grains['os']), text(grains['osrelease'])].filter(Boolean).join(' '),
    kernel: [text(grains['kernel']), text(grains['kernelrelease'])].filter(Boolean).join(' '),
    diskMounts: mounts,
    hwaddrInterfaces:
      hwaddr && typeof hwaddr === 'object'
        ? Object.keys(hwaddr)
            .filter((name) => name !== 'lo')
            .sort()
        : [],
  };
}

/** The outputs of a host that could not be asked, as upstream's zero-valued struct. */
const NO_INFO: HostInfo = { numCpus: 0, memTotal: 0, diskTotal: 0, os: '', kernel: '', diskMounts: null, hwaddrInterfaces: [] };

const asRecord = (r: HostResult) => (r.ret && typeof r.ret === 'object' ? (r.ret as Record<string, unknown>) : {});

/** One SharedCalls per salt client (per process): concurrent requests for a minion share its jobs. */
const sharedBySalt = new WeakMap<SaltClient, SharedCalls>();
const sharedOf = (salt: SaltClient) => {
  let shared = sharedBySalt.get(salt);
  if (!shared) sharedBySalt.set(salt, (shared = new SharedCalls()));
  return shared;
};

/**
 * The grains the master keeps of `hosts` (runner cache.grains, no job on any minion): hosts the cache does
 * not know are left out. A master that refuses the runner (not in netapi_enable_clients) gives nothing:
 * the minions are asked instead.
 */
async function cachedGrains(salt: SaltClient, shared: SharedCalls, hosts: string[], signal: AbortSignal): Promise<Map<string, HostResult>> {
  if (!hosts.length) return new Map();
  // Shared too: concurrent requests for the same minions make one runner call.
  const results = await shared.run('cache.grains', hosts, async (asked) => {
    let cached: unknown;
    try {
      cached = await salt.runner('cache.grains', { tgt: asked.join(','), tgt_type: 'list' }, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      cached = {};
    }
    return asked.map((host) => {
      const grains = cached && typeof cached === 'object' ? (cached as Record<string, unknown>)[host] : undefined;
      // A host the cache does not know: NO_RETURN here means "ask the minion".
      return grains && typeof grains === 'object' && 'num_cpus' in grains
        ? normaliseHostReturn(host, grains, { expectObject: true })
        : normaliseHostReturn(host, undefined);
    });
  });
  return new Map(results.filter((r) => r.ok).map((r) => [r.host, r]));
}

const freshField = z
  .union([z.string(), z.boolean()])
  .optional()
  .transform((v) => v === true || (typeof v === 'string' && /^(y|yes|true|1|on)$/i.test(v.trim())))
  .describe("`true`: ask the minion for its grains instead of the master's cache (default: the cache, refreshed when the minion starts or refreshes)");

/**
 * host-info/query: grains from the master's cache (one runner call, no minion job) unless `fresh` is asked
 * or the cache does not know the host, then one grains.items job for those hosts; disk.usage (not a grain)
 * as one job for all targets. Concurrent requests for the same minion share its jobs.
 */
export const hostInfoQuery = (salt: () => SaltClient) =>
  defineOperation({
    plugin: 'host-info',
    action: 'query',
    summary: 'CPU, memory, disks, OS, kernel and NICs of hosts (grains from the master cache, one disk.usage job for all targets)',
    input: z.object({ ...commonFields, target: safeToken('target'), fresh: freshField }),
    output,
    run: async (items, ctx): Promise<ItemOutcome<HostInfo>[]> => {
      const client = salt();
      const shared = sharedOf(client);
      const tgt = [...new Set(items.map((i) => i.target))];
      const fresh = new Set(items.filter((i) => i.fresh).map((i) => i.target));
      const ask = (fun: string) => (hosts: string[]) =>
        client.local({ fun, tgt: hosts, timeout: 5, gatherJobTimeout: 5 }, { signal: ctx.signal, normalise: { expectObject: true } });
      const [cached, usage] = await Promise.all([
        cachedGrains(
          client,
          shared,
          tgt.filter((h) => !fresh.has(h)),
          ctx.signal,
        ),
        shared.run('disk.usage', tgt, ask('disk.usage')),
      ]);
      const unknown = tgt.filter((h) => !cached.has(h));
      const asked = unknown.length ? await shared.run('grains.items', unknown, ask('grains.items')) : [];
      const grainsBy = new Map([...cached, ...asked.map((r) => [r.host, r] as const)]);
      const usageBy = new Map(usage.map((r) => [r.host, r]));
      return items.map((item) => {
        const g = grainsBy.get(item.target)!;
        const u = usageBy.get(item.target)!;
        const failed = !u.ok ? u : !g.ok ? g : undefined;
        // Upstream sends every output field on a failed item too (WeCube maps outputs by register.xml's list).
        if (failed) return { ok: false, error: hostError(failed), output: NO_INFO };
        return { ok: true, output: summariseHost(asRecord(g), asRecord(u)) };
      });
    },
  });
