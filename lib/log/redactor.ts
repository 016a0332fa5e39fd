const SECRET_KEY = /pass(word|wd)?|secret|token|authorization|cookie|private.?key|seed|credential|api.?key/i;
const MIN_SECRET_LENGTH = 4;

/** Whether a field or variable name says its value is a secret (`password`, `db_passwd`, `apiKey`, `seed`...). */
export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);

/**
 * Removes secrets from anything about to be logged: values under secret-looking keys, and every
 * registered secret value wherever it appears inside a string (a decrypted password inside a salt error).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value (a decrypted password, a token) so that it is masked in every later log line. */
  register(value: string | undefined | null): void {
    if (value && value.length >= MIN_SECRET_LENGTH) this.secrets.add(value);
  }

  redact(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > 8) return '[depth]';
    if (value instanceof Error) {
      return { name: value.name, message: this.redactString(value.message), code: (value as { code?: unknown }).code };
    }
    if (Array.isArray(value)) return value.map((v) => this.redact(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Keys carry data too: salt state results are keyed by the command line they ran.
      out[this.redactString(k)] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? '[redacted]' : this.redact(v, depth + 1);
    }
    return out;
  }

  /** The text with every registered secret masked: for error texts that leave the process (records, execution history). */
  redactText(text: string): string {
    return this.redactString(text);
  }

  private redactString(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    }
    return out;
  }
}
