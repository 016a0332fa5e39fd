import { parseVariableList } from '../artifacts/parse-variable-list.js';
import { combinedPrefixes, type PlaceholderPrefixes } from '../artifacts/placeholder-prefixes.js';
import { decodeCipherA, resolveSeed } from '../crypto/cipher-a.js';
import type { Redactor } from '../log/redactor.js';

/**
 * Registers every secret a release request (valid or not) carries with the redactor, in the forms it
 * may show up in: the password, seed and sysPrivateKey as given and decrypted, the variableList text,
 * and each decrypted variable (and plain ones under secret-looking names). A release's tasks run in
 * separate Lambdas: each registers them before it can log or throw anything. Never throws.
 */
export function registerRequestSecrets(
  raw: unknown,
  redactor: Redactor,
  config: { encryptSeed: string | undefined; placeholders: PlaceholderPrefixes },
  fallbackGuid?: string,
): void {
  if (raw === null || typeof raw !== 'object') return;
  const field = (name: string): string | undefined => {
    const v = (raw as Record<string, unknown>)[name];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  };
  const guid = field('guid') ?? fallbackGuid ?? '';
  const seed = resolveSeed(field('seed'), config.encryptSeed);
  redactor.register(field('seed'));
  for (const name of ['password', 'sysPrivateKey']) {
    const value = field(name);
    redactor.register(value);
    if (!value) continue;
    try {
      redactor.register(decodeCipherA(guid, seed, value));
    } catch {
      // does not decrypt: the task using it says so, and the given form is registered already
    }
  }
  const list = field('variableList');
  redactor.register(list);
  if (list?.trim()) {
    try {
      parseVariableList(list, { seed, prefixes: combinedPrefixes(config.placeholders), nullCheck: false, onSecret: (v) => redactor.register(v) });
    } catch {
      // a malformed list: its error names positions and keys only; the values decrypted before it are registered
    }
  }
}
