import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** The TLS modes of MYSQL_TLS and REDIS_TLS: `off` (plain, upstream's behaviour) or `required` (TLS, verified). */
export const DB_TLS_MODES = ['off', 'required'] as const;
export type DbTlsMode = (typeof DB_TLS_MODES)[number];

/**
 * TLS of the connections to one kind of database: always encrypted, the server certificate verified
 * against `ca` (PEM text; undefined means Node's bundled public CAs) and its name checked against the host.
 * There is no unverified or "preferred" mode: either would let anyone on the path read the passwords.
 */
export interface DbTls {
  ca: string | undefined;
  /** The file `ca` was read from, for messages. */
  caFile: string | undefined;
}

/**
 * Checks `<prefix>_TLS` / `<prefix>_TLS_CA_FILE` and reads the CA file: undefined when TLS is off.
 * Throws ConfigError naming the variable (CA file without TLS, unreadable file, no certificate in it).
 */
export function parseDbTls(
  prefix: 'MYSQL' | 'REDIS',
  mode: DbTlsMode,
  caFile: string | undefined,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): DbTls | undefined {
  const caVariable = `${prefix}_TLS_CA_FILE`;
  if (mode === 'off') {
    // Refused rather than ignored: the operator who set a CA file believes the connections are verified.
    if (caFile) throw new ConfigError(`${caVariable} is set but ${prefix}_TLS is off: set ${prefix}_TLS=required, or unset ${caVariable}`);
    return undefined;
  }
  if (!caFile) return { ca: undefined, caFile: undefined };
  let ca: string;
  try {
    ca = readFile(caFile);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new ConfigError(`${caVariable} cannot be read: ${caFile}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const pems = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new ConfigError(`${caVariable} holds no PEM certificate: ${caFile}`);
  for (const [i, pem] of pems.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ConfigError(`${caVariable}: certificate ${i + 1} of ${caFile} cannot be parsed`);
    }
  }
  return { ca, caFile };
}
