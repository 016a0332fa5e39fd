import type { z } from 'zod';
import { InputError } from '../errors.js';
import { EMPTY } from './fields.js';

/** The field names an object schema knows at `path` (for the unknown-field message); [] when it cannot tell. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (const key of [...path, undefined]) {
    // unwrap optional/nullable/default/pipe/transform wrappers down to the object
    for (let i = 0; i < 8 && node && !(node as { shape?: unknown }).shape; i++) {
      const def = (node as { def?: Record<string, unknown> }).def ?? {};
      node = def['innerType'] ?? def['in'] ?? def['schema'];
    }
    const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
    if (!shape) return [];
    if (key === undefined) return Object.keys(shape);
    node = shape[String(key)];
  }
  return [];
}

/** Validates one item; throws InputError with upstream's texts (`Parameter target can not empty.`). */
export function validateItem<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('Input item must be a JSON object.');
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'input';
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, issue.path);
    const prefix = issue.path.length ? `${field}.` : '';
    throw new InputError(
      `Parameter ${issue.keys.map((k) => prefix + k).join(', ')} validation failed: unknown field${issue.keys.length > 1 ? 's' : ''}, nothing was done${known.length ? ` (known: ${known.join(', ')})` : ''}`,
    );
  }
  if (issue.message === EMPTY) throw new InputError(`Parameter ${field} can not empty.`);
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    const value = issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k], raw);
    if (value === undefined || value === null) throw new InputError(`Parameter ${field} can not empty.`);
    throw new InputError(`Parameter ${field} validation failed: wrong type (${Array.isArray(value) ? 'array' : typeof value})`);
  }
  throw new InputError(`Parameter ${field} validation failed: ${issue.message}`);
}
