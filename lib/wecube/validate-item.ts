import type { z } from 'zod';
import { InputError } from '../errors.js';
import { EMPTY } from './fields.js';

/** Validates one item; throws InputError with upstream's texts (`Parameter target can not empty.`). */
export function validateItem<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('Input item must be a JSON object.');
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'input';
  if (issue.message === EMPTY) throw new InputError(`Parameter ${field} can not empty.`);
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    const value = issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k], raw);
    if (value === undefined || value === null) throw new InputError(`Parameter ${field} can not empty.`);
    throw new InputError(`Parameter ${field} validation failed: wrong type (${Array.isArray(value) ? 'array' : typeof value})`);
  }
  throw new InputError(`Parameter ${field} validation failed: ${issue.message}`);
}
