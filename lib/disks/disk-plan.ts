import type { BlockDevice, Signatures } from './parse-block-devices.js';

export const FILESYSTEMS = ['ext3', 'ext4', 'xfs'] as const;
export type Filesystem = (typeof FILESYSTEMS)[number];

/** Everything the handler learns about a host's disks in one round of jobs. */
export interface HostDisks {
  devices: BlockDevice[];
  signatures: Signatures;
  /** `mount.active`: mount point -> {device, fstype...}. */
  mounts: Record<string, unknown>;
  /** `mount.fstab`: mount point -> {device, fstype, opts...}. */
  fstab: Record<string, unknown>;
}

/** A top-level device and what is on it. */
export interface DiskFacts {
  device: BlockDevice;
  /** Partitions, LVM volumes... anything whose parent chain leads to the disk. */
  descendants: BlockDevice[];
  /** Filesystem (or swap...) signature on the disk itself. */
  filesystem: string;
  uuid: string;
  partitionTable: string;
  /** Mount points of the disk and its descendants (`[SWAP]` included). */
  mountpoints: string[];
}

/** Collects a device's facts; undefined when the host has no such device. */
export function diskFacts(name: string, devices: readonly BlockDevice[], signatures: Signatures): DiskFacts | undefined {
  const device = devices.find((d) => d.name === name);
  if (!device) return undefined;
  const descendants = new Map<string, BlockDevice>();
  const queue = [name];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const d of devices) {
      if (d.parent === parent && !descendants.has(d.name) && d.name !== name) {
        descendants.set(d.name, d);
        queue.push(d.name);
      }
    }
  }
  const own = signatures.get(name) ?? {};
  const all = [device, ...descendants.values()];
  return {
    device,
    descendants: [...descendants.values()],
    filesystem: own['TYPE'] || device.fstype,
    uuid: own['UUID'] ?? '',
    partitionTable: own['PTTYPE'] ?? '',
    mountpoints: [...new Set(all.map((d) => d.mountpoint).filter(Boolean))],
  };
}

const isTopLevelDataDisk = (d: BlockDevice, types: readonly string[]) => d.parent === '' && types.includes(d.type);

/** Why a disk may not be formatted (or undefined when it is a blank, unmounted data disk). */
export function blankProblem(facts: DiskFacts, types: readonly string[], signatures: Signatures): string | undefined {
  const { device } = facts;
  if (!isTopLevelDataDisk(device, types)) {
    return device.parent
      ? `is a ${device.type} of ${device.parent}, not a whole disk`
      : `is a ${device.type}, not a data disk (DISK_DEVICE_TYPES=${types.join(',')})`;
  }
  if (facts.mountpoints.includes('/')) return 'is the root disk';
  if (facts.mountpoints.length) return `is in use (mounted on ${facts.mountpoints.join(', ')})`;
  if (facts.filesystem) return `has a filesystem (${facts.filesystem})`;
  if (facts.partitionTable) return `has a partition table (${facts.partitionTable})`;
  const usedChild = facts.descendants.find((d) => d.fstype || signatures.get(d.name)?.['TYPE']);
  if (usedChild) return `has a filesystem on ${usedChild.name}`;
  if (facts.descendants.length) return `has partitions (${facts.descendants.map((d) => d.name).join(', ')})`;
  if (device.readOnly) return 'is read-only';
  if (device.size <= 0) return 'has no media (size 0)';
  return undefined;
}

/**
 * The data disks of a host with nothing on them: top-level devices of the configured types with no
 * filesystem, partition table or partitions, not mounted (nor used as swap), not read-only, not empty.
 */
export function unformattedDisks(disks: Pick<HostDisks, 'devices' | 'signatures'>, types: readonly string[]): string[] {
  const names = [...new Set(disks.devices.filter((d) => isTopLevelDataDisk(d, types)).map((d) => d.name))];
  return names.filter((name) => {
    const facts = diskFacts(name, disks.devices, disks.signatures)!;
    return blankProblem(facts, types, disks.signatures) === undefined;
  });
}

export type FormatDecision =
  | { kind: 'format' }
  /** Formatted with this filesystem and mounted there (or in fstab for there) already: an identical earlier call. */
  | { kind: 'already'; uuid: string }
  | { kind: 'refuse'; reason: string };

const deviceOf = (entry: unknown): string => {
  const d = (entry as { device?: unknown } | null)?.device;
  return typeof d === 'string' ? d : '';
};

/** What formatAndMountDisk should do with `disk` on a host, from its facts. */
export function decideFormat(request: { disk: string; filesystem: Filesystem; mountDir: string }, disks: HostDisks, types: readonly string[]): FormatDecision {
  const facts = diskFacts(request.disk, disks.devices, disks.signatures);
  if (!facts) return { kind: 'refuse', reason: `disk ${request.disk} not found` };
  const refuse = (why: string): FormatDecision => ({ kind: 'refuse', reason: `disk ${request.disk} ${why}` });

  const fstabEntry = disks.fstab[request.mountDir];
  const ours = facts.uuid && deviceOf(fstabEntry).toUpperCase() === `UUID=${facts.uuid}`.toUpperCase();
  if (
    facts.filesystem === request.filesystem &&
    facts.uuid &&
    !facts.descendants.length &&
    isTopLevelDataDisk(facts.device, types) &&
    !facts.mountpoints.includes('/') &&
    (facts.device.mountpoint === request.mountDir || (ours && !facts.mountpoints.length))
  ) {
    return { kind: 'already', uuid: facts.uuid };
  }

  const problem = blankProblem(facts, types, disks.signatures);
  if (problem) return refuse(problem);
  if (request.mountDir in disks.mounts)
    return refuse(`cannot be mounted on ${request.mountDir}: already a mount point of ${deviceOf(disks.mounts[request.mountDir]) || 'something else'}`);
  if (fstabEntry !== undefined) return refuse(`cannot be mounted on ${request.mountDir}: /etc/fstab already has an entry for it (${deviceOf(fstabEntry)})`);
  return { kind: 'format' };
}

/** mkfs as argv (no shell), with the UUID chosen by the handler so that the fstab entry can name it. */
export function mkfsArgv(filesystem: Filesystem, disk: string, uuid: string): string[] {
  switch (filesystem) {
    case 'xfs':
      return ['mkfs.xfs', '-f', '-m', `uuid=${uuid}`, disk];
    default:
      return [`mkfs.${filesystem}`, '-F', '-U', uuid, disk];
  }
}
