import { randomInt } from 'node:crypto';

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
// `_` satisfies "special character" password policies (MySQL validate_password, MariaDB
// simple_password_check) and needs no quoting in shells, URLs or config files.
const SPECIAL = '_';
const ALL = UPPER + LOWER + DIGITS + SPECIAL;

const pick = (alphabet: string) => alphabet[randomInt(alphabet.length)]!;

/**
 * A random password from the CSPRNG (upstream used math/rand seeded by time): `length` characters with
 * at least two upper-case letters, two lower-case letters, two digits and one `_`, in random order
 * (look-alike characters such as 0/O and 1/l are left out).
 */
export function randomPassword(length = 16): string {
  if (length < 8) throw new RangeError('a generated password has at least 8 characters');
  const chars = [pick(UPPER), pick(UPPER), pick(LOWER), pick(LOWER), pick(DIGITS), pick(DIGITS), pick(SPECIAL)];
  while (chars.length < length) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
