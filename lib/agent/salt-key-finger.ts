import { createHash } from 'node:crypto';

/**
 * Salt's fingerprint of a PEM public key (salt.utils.crypt.pem_finger, as wheel `key.finger` prints it):
 * the hash of the non-blank lines between the first and the last, newlines included, as colon-separated
 * hex pairs. Returns undefined when the text is not a PEM block.
 */
export function saltKeyFinger(pem: string, hashType = 'sha256'): string | undefined {
  const lines = pem.split(/(?<=\n)/).filter((l) => l.trim() !== '');
  if (lines.length < 3 || !/^-----BEGIN [A-Z ]+-----/.test(lines[0]!) || !/^-----END [A-Z ]+-----/.test(lines[lines.length - 1]!)) return undefined;
  const body = lines.slice(1, -1).join('').replace(/\r\n/g, '\n');
  const hex = createHash(hashType).update(body, 'utf8').digest('hex');
  return hex.match(/../g)!.join(':');
}

const PUB_BEGIN = 'agent-minion-pub-begin';
const PUB_END = 'agent-minion-pub-end';

/** The markers the install script prints around the minion's public key. */
export const PUB_MARKERS = { begin: PUB_BEGIN, end: PUB_END } as const;

/** The minion public key the install script printed between its markers; undefined when absent. */
export function extractMinionPub(stdout: string): string | undefined {
  const start = stdout.indexOf(`${PUB_BEGIN}\n`);
  const end = stdout.indexOf(`\n${PUB_END}`, start);
  if (start < 0 || end < 0) return undefined;
  return `${stdout.slice(start + PUB_BEGIN.length + 1, end)}\n`;
}
