import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InputError, JobFailedError, type PluginError } from '../errors.js';
import { batchOptions, type HostDeps } from '../files/deps.js';
import { absolutePathProblem, normalisePath } from '../files/host-path.js';
import { systemTreeProblem } from '../files/system-paths.js';
import { applySteps, stepsError } from '../salt/apply-steps.js';
import { anyChanges, type StateStep } from '../salt/high-data.js';
import { hostError } from '../salt/host-error.js';
import { unanswered, type HostResult } from '../salt/normalise-result.js';
import { runBatched } from '../salt/run-batched.js';
import { commonFields, looseString, requiredString } from '../input/fields.js';
import { defineOperation, type ItemOutcome, type RunContext } from '../wecube/operation.js';
import { decideFormat, FILESYSTEMS, mkfsArgv, unformattedDisks, type Filesystem, type HostDisks } from './disk-plan.js';
import { BLKID_ARGV, LSBLK_ARGV, parseBlkid, parseLsblk } from './parse-block-devices.js';

type DiskDeps = Pick<HostDeps, 'salt' | 'config'>;

/** The old guide's disk example names the host `endpoint`; `target` wins when both are given. */
const targetFields = {
  target: looseString().describe('minion id (the host IP); the old API guide calls it endpoint'),
  endpoint: looseString().describe('legacy alias of target'),
};

/** The item's target (or its legacy `endpoint`); InputError when neither is usable. */
export function targetOf(item: { target?: string | undefined; endpoint?: string | undefined }): string {
  const target = (item.target?.trim() || item.endpoint?.trim()) ?? '';
  if (!target) throw new InputError('Parameter target can not empty.');
  if (!/^[A-Za-z0-9._:-]{1,253}$/.test(target)) throw new InputError('Parameter target validation failed: must be a minion id (host name or IP)');
  return target;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One round of jobs on every host (each function one job on the host list): lsblk, blkid, and with
 * `withMounts` also mount.active and mount.fstab. Per host: its facts, or the error of the first job that failed.
 */
async function readDisks(deps: DiskDeps, ctx: RunContext, hosts: string[], withMounts: boolean): Promise<Map<string, HostDisks | PluginError>> {
  const call = (fun: string, arg: unknown[] = [], kwarg: Record<string, unknown> = {}) =>
    runBatched(
      deps.salt(),
      hosts.map((host) => ({ host, fun, arg, kwarg })),
      batchOptions(deps, ctx),
    );
  const command = (argv: string[]) => call('cmd.run_all', [argv], { python_shell: false, timeout: 60 });
  const [lsblk, blkid, mounts, fstab] = await Promise.all([
    command(LSBLK_ARGV),
    command(BLKID_ARGV),
    withMounts ? call('mount.active') : Promise.resolve(undefined),
    withMounts ? call('mount.fstab') : Promise.resolve(undefined),
  ]);
  const out = new Map<string, HostDisks | PluginError>();
  hosts.forEach((host, i) => {
    const l = lsblk[i]!;
    const b = blkid[i]!;
    // blkid exits 2 when it finds no signature at all: an answer, not a failure.
    const blkidEmpty = !b.ok && b.error === 'NONZERO_EXIT' && b.retcode === 2;
    const failed = [l, blkidEmpty ? undefined : b, mounts?.[i], fstab?.[i]].find((r): r is HostResult => !!r && !r.ok);
    if (failed) return void out.set(host, hostError(failed));
    out.set(host, {
      devices: parseLsblk(l.stdout),
      signatures: parseBlkid(blkidEmpty ? '' : b.stdout),
      mounts: isObject(mounts?.[i]?.ret) ? (mounts![i]!.ret as Record<string, unknown>) : {},
      fstab: isObject(fstab?.[i]?.ret) ? (fstab![i]!.ret as Record<string, unknown>) : {},
    });
  });
  return out;
}

const getInput = z.object({ ...commonFields, ...targetFields });
const getOutput = z.object({ unformatedDisks: z.array(z.string()).describe('data disks with no filesystem, partition or mount') });

/** disk/getUnformatedDisk: the blank data disks of hosts (lsblk + blkid, one job each for all hosts). */
export const diskGetUnformatedDisk = (deps: DiskDeps) =>
  defineOperation({
    plugin: 'disk',
    action: 'getUnformatedDisk',
    summary: 'List the data disks of hosts that have no filesystem, partition table or partitions and are not mounted',
    input: getInput,
    output: getOutput,
    run: async (items, ctx): Promise<ItemOutcome<z.output<typeof getOutput>>[]> => {
      const targets = items.map((item) => {
        try {
          return targetOf(item);
        } catch (error) {
          return error as PluginError;
        }
      });
      const hosts = [...new Set(targets.filter((t): t is string => typeof t === 'string'))];
      const facts = hosts.length ? await readDisks(deps, ctx, hosts, false) : new Map<string, HostDisks | PluginError>();
      return targets.map((target) => {
        if (typeof target !== 'string') return { ok: false, error: target };
        const disks = facts.get(target)!;
        if (!('devices' in disks)) return { ok: false, error: disks };
        return { ok: true, output: { unformatedDisks: unformattedDisks(disks, deps.config.hosts.diskDeviceTypes) } };
      });
    },
  });

const formatInput = z.object({
  ...commonFields,
  ...targetFields,
  diskName: requiredString().describe('/dev/vdb or vdb'),
  fileSystemType: requiredString().describe('ext3, ext4 or xfs'),
  mountDir: requiredString().describe('absolute directory, created if missing'),
});
const formatOutput = z.object({ detail: z.string().describe('mkfs output and what was mounted, or "nothing changed"') });
type FormatOutput = z.output<typeof formatOutput>;

interface FormatRequest {
  index: number;
  host: string;
  disk: string;
  filesystem: Filesystem;
  mountDir: string;
}

/** Checks one formatAndMountDisk item; throws InputError naming the field. */
export function parseFormatRequest(item: z.output<typeof formatInput>): Omit<FormatRequest, 'index'> {
  const host = targetOf(item);
  const name = item.diskName.trim();
  if (!/^(\/dev\/)?[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(name)) throw new InputError('Parameter diskName validation failed: must be a device such as /dev/vdb');
  const fs = item.fileSystemType.trim().toLowerCase();
  if (!(FILESYSTEMS as readonly string[]).includes(fs))
    throw new InputError(`Parameter fileSystemType validation failed: must be one of ${FILESYSTEMS.join(', ')}`);
  const problem = absolutePathProblem(item.mountDir.trim());
  if (problem) throw new InputError(`Parameter mountDir validation failed: ${problem}`);
  // salt writes the mount point into /etc/fstab as it is: a space would split the entry.
  if (/\s|\\/.test(item.mountDir.trim()))
    throw new InputError('Parameter mountDir validation failed: must not contain spaces or backslashes (/etc/fstab fields)');
  const mountDir = normalisePath(item.mountDir.trim());
  // A disk mounted over a system tree hides (or replaces) what the system runs from: /etc, /usr, /var itself...
  const system = systemTreeProblem(mountDir);
  if (system) throw new InputError(`Parameter mountDir validation failed: ${system} on ${host}`);
  return { host, disk: name.startsWith('/dev/') ? name : `/dev/${name}`, filesystem: fs as Filesystem, mountDir };
}

/**
 * Mounts the filesystem by UUID with `nofail` and a persistent fstab entry (salt's mount.mounted: an
 * identical second run changes nothing). After a fresh mkfs, a failed mount is rolled back in the same
 * job: fstab entry removed, unmounted, filesystem signature wiped, so the disk is blank again.
 */
export function mountSteps(plan: { disk: string; uuid: string; filesystem: Filesystem; mountDir: string; rollback: boolean }): StateStep[] {
  const device = `UUID=${plan.uuid}`;
  const steps: StateStep[] = [
    {
      id: 'mount',
      state: 'mount.mounted',
      args: { name: plan.mountDir, device, fstype: plan.filesystem, mkmnt: true, persist: true, opts: 'defaults,nofail', dump: 0, pass_num: 2 },
    },
  ];
  if (plan.rollback) {
    steps.push(
      { id: 'undo fstab', state: 'mount.fstab_absent', args: { name: device, fs_file: plan.mountDir }, onfail: ['mount'] },
      { id: 'undo mount', state: 'mount.unmounted', args: { name: plan.mountDir, device }, onfail: ['mount'] },
      {
        id: 'undo mkfs',
        state: 'module.run',
        args: { 'cmd.run_all': [{ cmd: ['wipefs', '-a', plan.disk] }, { python_shell: false }] },
        onfail: ['mount'],
      },
    );
  }
  return steps;
}

const commandOutput = (r: HostResult) =>
  [r.stdout, r.stderr]
    .filter((s) => s.trim())
    .join('\n')
    .trim();

/**
 * disk/formatAndMountDisk: mkfs (ext3/ext4/xfs) on a blank data disk, mount, fstab entry by UUID with
 * nofail. Refuses a disk with a filesystem, partitions or a mount (the root disk first of all); an
 * identical second call finds the disk formatted and mounted and changes nothing.
 */
export const diskFormatAndMountDisk = (deps: DiskDeps) =>
  defineOperation({
    plugin: 'disk',
    action: 'formatAndMountDisk',
    summary: 'Format a blank data disk (ext3/ext4/xfs), mount it and add a UUID fstab entry with nofail; idempotent',
    input: formatInput,
    output: formatOutput,
    run: async (items, ctx): Promise<ItemOutcome<FormatOutput>[]> => {
      const outcomes = new Array<ItemOutcome<FormatOutput>>(items.length);
      const reqs: FormatRequest[] = [];
      items.forEach((item, index) => {
        try {
          reqs.push({ index, ...parseFormatRequest(item) });
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });
      const seen = new Map<string, number>();
      for (const req of reqs) {
        const key = `${req.host}\0${req.disk}`;
        if (seen.has(key))
          outcomes[req.index] = {
            ok: false,
            error: new InputError(`disk ${req.disk} on ${req.host} is already in item ${seen.get(key)! + 1} of this request`),
          };
        else seen.set(key, req.index);
      }
      const live = reqs.filter((r) => !outcomes[r.index]);
      const facts = live.length ? await readDisks(deps, ctx, [...new Set(live.map((r) => r.host))], true) : new Map();

      const toFormat: Array<FormatRequest & { uuid: string }> = [];
      const toMount: Array<FormatRequest & { uuid: string; fresh: boolean; mkfsOutput: string }> = [];
      for (const req of live) {
        const disks = facts.get(req.host) as HostDisks | PluginError;
        if (!('devices' in disks)) {
          outcomes[req.index] = { ok: false, error: disks };
          continue;
        }
        const decision = decideFormat(req, disks, deps.config.hosts.diskDeviceTypes);
        if (decision.kind === 'refuse') outcomes[req.index] = { ok: false, error: new InputError(`${decision.reason} on ${req.host}`) };
        else if (decision.kind === 'already') toMount.push({ ...req, uuid: decision.uuid, fresh: false, mkfsOutput: '' });
        else toFormat.push({ ...req, uuid: randomUUID() });
      }

      const timeout = deps.config.salt.jobTimeoutS;
      const formatted = await runBatched(
        deps.salt(),
        toFormat.map((r) => ({ host: r.host, fun: 'cmd.run_all', arg: [mkfsArgv(r.filesystem, r.disk, r.uuid)], kwarg: { python_shell: false, timeout } })),
        batchOptions(deps, ctx, true),
      );
      const wipe: typeof toFormat = [];
      formatted.forEach((result, i) => {
        const req = toFormat[i]!;
        if (result.ok) {
          ctx.logger.info('disk formatted', { host: req.host, disk: req.disk, fs: req.filesystem });
          toMount.push({ ...req, fresh: true, mkfsOutput: commandOutput(result) });
          return;
        }
        const output = commandOutput(result);
        outcomes[req.index] = {
          ok: false,
          error: unanswered(result)
            ? hostError(result)
            : new JobFailedError(`mkfs.${req.filesystem} ${req.disk} failed on ${req.host}: ${output || result.message}`, req.host),
        };
        // Not when mkfs may still be running (BUSY) or never ran.
        if (!unanswered(result)) wipe.push(req);
      });
      // A failed mkfs may have written part of a signature: wipe it, so the disk is blank as it was.
      const [mounted] = await Promise.all([
        applySteps(
          deps.salt(),
          toMount.map((r) => ({ host: r.host, steps: mountSteps({ ...r, rollback: r.fresh }) })),
          batchOptions(deps, ctx),
        ),
        runBatched(
          deps.salt(),
          wipe.map((r) => ({ host: r.host, fun: 'cmd.run_all', arg: [['wipefs', '-a', r.disk]], kwarg: { python_shell: false, timeout: 60 } })),
          batchOptions(deps, ctx),
        ),
      ]);
      mounted.forEach((result, i) => {
        const req = toMount[i]!;
        if (!result.ok) {
          outcomes[req.index] = { ok: false, error: stepsError(result, `Mounting ${req.disk} on ${req.mountDir}${req.fresh ? ' (formatting undone)' : ''}`) };
          return;
        }
        const summary = `${req.disk} (${req.filesystem}, UUID=${req.uuid}) mounted on ${req.mountDir}, /etc/fstab entry with nofail`;
        const detail = req.fresh
          ? [req.mkfsOutput, summary].filter(Boolean).join('\n')
          : anyChanges(result.ret)
            ? `${req.disk} was already formatted (${req.filesystem}); ${summary}`
            : `${req.disk} is already formatted (${req.filesystem}) and mounted on ${req.mountDir}; nothing changed`;
        outcomes[req.index] = { ok: true, output: { detail } };
      });
      return outcomes;
    },
  });
