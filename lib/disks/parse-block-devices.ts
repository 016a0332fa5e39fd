/**
 * Parsers for what the hosts report about their block devices. `lsblk -P` (KEY="value" pairs) rather than
 * `-J`: JSON output needs util-linux 2.27, CentOS 7 ships 2.23, and the pairs carry the same columns.
 */

/** The lsblk command the handler runs on hosts (argv, no shell): full paths, sizes in bytes. */
export const LSBLK_ARGV = ['lsblk', '-P', '-b', '-p', '-o', 'NAME,TYPE,FSTYPE,MOUNTPOINT,PKNAME,SIZE,RO'];

/**
 * blkid without its cache (`-c /dev/null`): probes every device. lsblk's FSTYPE comes from udev, which is
 * empty in containers and on hosts without udev; blkid reads the signatures on the device itself.
 */
export const BLKID_ARGV = ['blkid', '-c', '/dev/null', '-o', 'export'];

/** One row of lsblk. */
export interface BlockDevice {
  name: string;
  type: string;
  fstype: string;
  mountpoint: string;
  /** The parent device (a partition's disk), '' for a top-level device. */
  parent: string;
  size: number;
  readOnly: boolean;
}

/** lsblk escapes unsafe bytes as `\xHH`. */
const unescapeValue = (value: string) =>
  Buffer.from(
    value.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

/** Parses `lsblk -P` output; lines without NAME are skipped. */
export function parseLsblk(stdout: string): BlockDevice[] {
  const devices: BlockDevice[] = [];
  for (const line of stdout.split('\n')) {
    const fields: Record<string, string> = {};
    for (const m of line.matchAll(/([A-Z:-]+)="((?:[^"\\]|\\.)*)"/g)) fields[m[1]!] = unescapeValue(m[2]!);
    if (!fields['NAME']) continue;
    devices.push({
      name: fields['NAME'],
      type: (fields['TYPE'] ?? '').toLowerCase(),
      fstype: fields['FSTYPE'] ?? '',
      mountpoint: fields['MOUNTPOINT'] ?? '',
      parent: fields['PKNAME'] ?? '',
      size: Number(fields['SIZE'] ?? 0) || 0,
      readOnly: fields['RO'] === '1',
    });
  }
  return devices;
}

/** What blkid found on a device: TYPE (filesystem, swap...), UUID, PTTYPE (a partition table). */
export type Signatures = Map<string, Record<string, string>>;

/** Parses `blkid -o export` output: blank-line separated blocks of KEY=value, DEVNAME first. */
export function parseBlkid(stdout: string): Signatures {
  const out: Signatures = new Map();
  for (const block of stdout.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fields[line.slice(0, eq).trim()] = line.slice(eq + 1).replace(/\\(.)/g, '$1');
    }
    if (fields['DEVNAME']) out.set(fields['DEVNAME'], fields);
  }
  return out;
}
