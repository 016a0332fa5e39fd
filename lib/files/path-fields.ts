import { looseString, requiredString } from '../input/fields.js';
import { absolutePathProblem, parseMode, parseOwner, type Owner } from './host-path.js';

/** A required absolute path on a host (trailing `/` kept: it means "a directory" where that matters). */
export const hostPathField = () =>
  requiredString().transform((v, ctx) => {
    const path = v.trim();
    const problem = absolutePathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    return path;
  });

/** An optional `user[:group]`; absent or empty gives undefined. */
export const ownerField = () =>
  looseString().transform((v, ctx): Owner | undefined => {
    if (v === undefined || v.trim() === '') return undefined;
    const owner = parseOwner(v);
    if (typeof owner === 'string') {
      ctx.addIssue({ code: 'custom', message: owner });
      return undefined;
    }
    return owner;
  });

/** An optional permission mode (`644`, `0755`), normalised to 4 octal digits. */
export const modeField = () =>
  looseString().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const mode = parseMode(v);
    if (!mode) ctx.addIssue({ code: 'custom', message: 'must be 3 or 4 octal digits, e.g. 0644' });
    return mode;
  });

/** Upstream's `unpack`: only "true" counts (a JSON `true` too, any case). */
export const flagField = () => looseString().transform((v) => v?.trim().toLowerCase() === 'true');
