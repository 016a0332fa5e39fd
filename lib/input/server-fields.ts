import { looseString, safeToken } from './fields.js';

/** A host name or IP address (v4, or v6 without brackets). */
export const hostField = () =>
  safeToken('host').refine((v) => v === undefined || /^[A-Za-z0-9._:-]{1,253}$/.test(v.trim()), {
    message: 'must be a host name or an IP address',
  });

/** A TCP port given as text or number; absent or empty gives `fallback` (upstream's text on a bad value). */
export const portField = (fallback: number) =>
  looseString().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return fallback;
    const n = Number(v.trim());
    if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535) {
      ctx.addIssue({ code: 'custom', message: 'Port is not num' });
      return 0;
    }
    return n;
  });
