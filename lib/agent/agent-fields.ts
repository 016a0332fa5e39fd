import { z } from 'zod';
import { normaliseFingerprint } from '../ssh/host-key-policy.js';
import { looseString, requiredString } from '../input/fields.js';
import { hostField, portField } from '../input/server-fields.js';
import type { InstallMethod } from './remote-scripts.js';

/**
 * upstream `method`: yum/apt/dnf name a package repository; `local` (what WeCube sends) is upstream's
 * offline package served by the plugin, i.e. the bundle (AGENT_BUNDLE_URL); absent takes the configured default.
 */
export function parseMethod(value: string | undefined, fallback: InstallMethod): InstallMethod | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return fallback;
  if (v === 'local') return 'bundle';
  if (['repository', 'yum', 'apt', 'dnf'].includes(v)) return 'repository';
  if (v === 'bootstrap' || v === 'bundle' || v === 'preinstalled') return v;
  if (v === 'offline') return 'bundle';
  return undefined;
}

/** The SSH fields of agent/install and agent/uninstall (upstream's names). */
export const agentSshFields = (defaultMethod?: InstallMethod) => ({
  guid: requiredString(),
  callbackParameter: looseString(),
  seed: looseString(),
  host: hostField(),
  port: portField(22),
  // The seed's example sends no user: it means root, as the old plugin did.
  user: looseString()
    .transform((v) => (v?.trim() ? v.trim() : 'root'))
    .refine((v) => /^[a-z_][a-z0-9_.-]*\$?$/i.test(v), { message: 'user contains an illegal character' }),
  password: requiredString(),
  passwordType: looseString(),
  method: looseString().transform((v, ctx) => {
    // No default given: an absent method stays undefined and `run` applies AGENT_DEFAULT_METHOD, so that
    // the schema reads no setting (the OpenAPI generator parses it, the config may not be loaded yet).
    if (!v?.trim()) return defaultMethod;
    const method = parseMethod(v, 'repository');
    if (!method) ctx.addIssue({ code: 'custom', message: 'must be repository (or yum/apt/dnf), bootstrap, bundle (offline) or preinstalled' });
    return method;
  }),
  hostKeyFingerprint: looseString().transform((v, ctx) => {
    if (!v?.trim()) return undefined;
    const fp = normaliseFingerprint(v);
    if (!fp) ctx.addIssue({ code: 'custom', message: 'must be an OpenSSH SHA256 fingerprint (SHA256:<43 base64 characters>)' });
    return fp;
  }),
});

export const agentOutputFields = {
  host: z.string().optional(),
  detail: z.string().optional().describe('What was done, step by step'),
  hostKeyFingerprint: z.string().optional().describe('SHA256 fingerprint of the SSH host key the server presented'),
  hostKeyStatus: z
    .enum(['pinned', 'known', 'recorded'])
    .optional()
    .describe('pinned: matched hostKeyFingerprint; known: matched the recorded key; recorded: first connection, the key was recorded now'),
};
