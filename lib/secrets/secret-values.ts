/** A problem with the secret's content, filed under SECRETS_ID for the config's one list of problems. */
export interface SecretProblem {
  variable: 'SECRETS_ID';
  message: string;
}

/**
 * The variables a SecretString sets: a JSON object of variable name -> string, each name one of `allowed`
 * (the variables the config schema marks secret). Problems name the secret and the key, never a value.
 */
export function readSecretValues(id: string, text: string, allowed: readonly string[]): { values: Record<string, string>; problems: SecretProblem[] } {
  const problem = (message: string): SecretProblem => ({ variable: 'SECRETS_ID', message: `the secret ${id} ${message}` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error: the value stays out
    return { values: {}, problems: [problem('is not JSON: store an object of variable names to values, e.g. {"JWT_SIGNING_KEY":"..."}')] };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { values: {}, problems: [problem('is not a JSON object: store an object of variable names to values, e.g. {"JWT_SIGNING_KEY":"..."}')] };
  }
  const values: Record<string, string> = {};
  const problems: SecretProblem[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!allowed.includes(key)) {
      problems.push(
        problem(`holds "${key.slice(0, 100)}", which may not come from a secret (only ${allowed.join(', ')}): remove it, or set it in the environment`),
      );
    } else if (typeof value !== 'string') {
      problems.push(problem(`holds ${key} as ${value === null ? 'null' : typeof value}: every value is a JSON string`));
    } else {
      values[key] = value;
    }
  }
  return { values, problems };
}
