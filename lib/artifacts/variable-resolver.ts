import { InputError } from '../errors.js';
import { encryptDouble, encryptSingle, type RsaKeyPair } from './encrypt-variable.js';
import { confinePath } from './entry-guard.js';
import type { Placeholder } from './scan-placeholders.js';

/** A placeholder no variable answered, as reported in the output (first line it was seen on). */
export interface UnresolvedVariable {
  file: string;
  line: string;
  key: string;
  type: string;
}

export interface ResolverOptions {
  /** Lower-cased name → value (parseVariableList). */
  variables: ReadonlyMap<string, string>;
  /** The RSA key pair, parsed on first need (a package without `!`/`%`/`+` placeholders needs no keys). */
  keys: () => RsaKeyPair;
  /** Receives every clear value that is about to be encrypted, for log redaction. */
  onSecret: (value: string) => void;
  /** Filled with whole-file replacements: confined path in the package → URL of the new content. */
  fileReplacements: Map<string, string>;
  /** Single-RSA keys (`+db_pw`) that stay plain (SALTSTACK_ENCRYPT_ESCAPE_PREFIX); none when absent. */
  escapes?: (key: string) => boolean;
}

/**
 * What each placeholder of a conf file becomes (upstream §8.5-8.6): the first reading whose name is in the
 * variable list wins; `@`/`#` give the value, `!`/`%` the double-RSA hex, `+` the single-RSA hex (one
 * encryption per variable and kind in a request), `^` records a whole-file replacement and leaves the
 * line alone. Readings with no variable are collected in `unresolved`.
 */
export class VariableResolver {
  readonly unresolved: UnresolvedVariable[] = [];
  private readonly reported = new Set<string>();
  private readonly encrypted = new Map<string, string>();

  constructor(private readonly options: ResolverOptions) {}

  resolve(placeholder: Placeholder, file: string, line: number): string | undefined {
    for (const { prefix, name } of placeholder.candidates) {
      const value = this.options.variables.get(name.toLowerCase());
      if (value === undefined) continue;
      const text = `[${prefix.text}${name}]`;
      switch (prefix.kind) {
        case 'plain':
          return value;
        case 'file': {
          const target = confinePath(name);
          if (target === undefined) throw new InputError(`Try to replace file fail,${name} escapes the package root`);
          if (target === '') throw new InputError(`Try to replace file fail,${name} is the package root`);
          if (value.trim() !== '') this.options.fileReplacements.set(target, value.trim());
          return undefined;
        }
        case 'double-rsa':
        case 'single-rsa': {
          // upstream's escape: with its default list every `+` placeholder gets the plain value
          if (prefix.kind === 'single-rsa' && this.options.escapes?.(`${prefix.text}${name}`)) return value;
          const cacheKey = `${prefix.kind}:${name.toLowerCase()}`;
          let out = this.encrypted.get(cacheKey);
          if (out === undefined) {
            this.options.onSecret(value);
            const keys = this.options.keys();
            out = prefix.kind === 'single-rsa' ? encryptSingle(value, keys, text) : encryptDouble(value, keys, text);
            this.encrypted.set(cacheKey, out);
          }
          return out;
        }
      }
    }
    const first = placeholder.candidates[0]!;
    const id = `${file}\0${first.prefix.text}\0${first.name}`;
    if (!this.reported.has(id)) {
      this.reported.add(id);
      this.unresolved.push({ file, line: String(line), key: first.name, type: first.prefix.text });
    }
    return undefined;
  }
}

/** The error for unresolved placeholders when the null check is on. */
export function unresolvedError(unresolved: readonly UnresolvedVariable[]): InputError {
  const shown = unresolved.slice(0, 20).map((u) => `${u.file}:${u.line} [${u.type}${u.key}]`);
  const more = unresolved.length > shown.length ? ` and ${unresolved.length - shown.length} more` : '';
  return new InputError(`Variables not found in variableList: ${shown.join(', ')}${more}`);
}
