import { z } from 'zod';
import { looseString, requiredString } from '../input/fields.js';
import { ENDPOINT_TYPES, type EndpointType } from './plan-scripts.js';
import { pathProblem } from './script-path.js';
import { shellWords } from './shell-quote.js';

/** `LOCAL`, `S3` or `USER_PARAM` (case and spaces forgiven); absent means the action's own type. */
export const endpointTypeField = (fallback: EndpointType | undefined) =>
  looseString().transform((v, ctx): EndpointType => {
    const type = (v ?? '').trim().toUpperCase() || fallback;
    if (!type || !(ENDPOINT_TYPES as readonly string[]).includes(type)) {
      ctx.addIssue({ code: 'custom', message: `must in (${ENDPOINT_TYPES.join(',')})` });
      return z.NEVER;
    }
    return type as EndpointType;
  });

// A Linux account or group name as useradd accepts it (plus upper case), at most 32 characters.
const ACCOUNT = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

export interface RunAs {
  user: string;
  /** Validated but not used to run (upstream runs as the user only; a group needs sudo on the host). */
  group: string | undefined;
}

/** `user` or `user:group`, each an account name from an allow-list; upstream requires it. */
export const runAsField = () =>
  requiredString().transform((v, ctx): RunAs => {
    const [user = '', group, ...rest] = v.trim().split(':');
    if (rest.length || !ACCOUNT.test(user) || (group !== undefined && !ACCOUNT.test(group))) {
      ctx.addIssue({ code: 'custom', message: 'must be user or user:group, with names of letters, digits, _ . -' });
      return z.NEVER;
    }
    return { user, group };
  });

/** An optional absolute directory (the script's working directory). */
export const workDirField = () =>
  looseString().transform((v, ctx) => {
    const dir = v?.trim();
    if (!dir) return undefined;
    const problem = pathProblem(dir);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return dir;
  });

/** Seconds a script may run before it is killed: 1..86400, absent means `fallback`. */
export const timeoutField = (fallback?: number) =>
  looseString().transform((v, ctx): number | undefined => {
    // No fallback: an absent timeout stays undefined and `run` applies SCRIPT_TIMEOUT_S, so that the schema
    // reads no setting (it is parsed by the OpenAPI generator, the config may not be loaded yet).
    if (v === undefined || v.trim() === '') return fallback;
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n < 1 || n > 86_400) {
      ctx.addIssue({ code: 'custom', message: 'must be a whole number of seconds between 1 and 86400' });
      return z.NEVER;
    }
    return n;
  });

/** `args`: one command line split into words by POSIX quoting rules, never evaluated (see shellWords). */
export const argsField = () =>
  looseString().transform((v, ctx): string[] => {
    if (v === undefined || v.trim() === '') return [];
    const words = shellWords(v);
    if (typeof words === 'string') {
      ctx.addIssue({ code: 'custom', message: words });
      return z.NEVER;
    }
    return words;
  });
