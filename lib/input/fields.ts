import { z } from 'zod';

/**
 * WeCube sends strings, but callers also send JSON numbers and booleans (`"port": 3306`), and `null`
 * for absent: every string field accepts those and yields a string, or undefined when absent.
 */
export const looseString = () =>
  z
    .union([z.string(), z.number(), z.boolean(), z.null()])
    .optional()
    .transform((v) => (v === null || v === undefined ? undefined : String(v)));

/** Marker message for a required field that is absent or empty; mapped to upstream's text. */
export const EMPTY = 'EMPTY';

/** A required string field: absent, null, '' or blank gives `Parameter <name> can not empty.` */
export const requiredString = () => looseString().refine((v): v is string => v !== undefined && v.trim() !== '', { message: EMPTY, abort: true });

/** Fields every WeCube item carries. */
export const commonFields = {
  guid: looseString(),
  callbackParameter: looseString(),
};

/** Rejects the characters upstream's checkIllegalParam refused (quotes and backtick), plus NUL and newlines. */
export const safeToken = (what: string) => requiredString().refine((v) => !/['"`\0\r\n]/.test(v), { message: `${what} contains an illegal character` });
