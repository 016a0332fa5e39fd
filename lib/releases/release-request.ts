import { z } from 'zod';
import { looseString, requiredString } from '../wecube/fields.js';
import { splitList } from '../text/split-list.js';
import { strategyField } from './release-plan.js';
import { clearPaths, parseAppUser, parseInstallDir, scriptPaths, type AppUser, type InstallDir } from '../deploy/deploy-plan.js';

const HOST = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}$/;

/** Release targets: a JSON array of minion ids or a `,`/`|` list; duplicates dropped, order kept. */
const targetsField = () =>
  z.union([z.array(z.union([z.string(), z.number()])), z.string()]).transform((v, ctx) => {
    const list = [...new Set((Array.isArray(v) ? v.map(String) : splitList(v)).map((h) => h.trim()).filter(Boolean))];
    if (!list.length) {
      ctx.addIssue({ code: 'custom', message: 'EMPTY' });
      return z.NEVER;
    }
    const bad = list.find((h) => !HOST.test(h));
    if (bad) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(bad.slice(0, 64))} is not a minion id` });
      return z.NEVER;
    }
    return list;
  });

/**
 * A release: the same fields as apply-deployment (package, confFiles/variableList, destinationPath,
 * userName, scripts), plus the hosts, the mode and the rolling strategy. Used by release/start and by
 * `*.release.json` manifests (which may name the package by `packageKey` in their own bucket).
 */
export const releaseInput = z
  .object({
    guid: looseString(),
    callbackParameter: looseString(),
    name: looseString().describe('a label for the release (part of its id)'),
    mode: z.enum(['new', 'update']).optional().default('new'),
    endpoint: looseString().describe('the package URL (http(s)://host/bucket/key or s3://bucket/key)'),
    packageKey: looseString().describe('or: the package key in the artifact bucket (manifests: in their own bucket)'),
    confFiles: looseString(),
    variableList: looseString(),
    seed: looseString(),
    appPublicKey: looseString(),
    sysPrivateKey: looseString(),
    destinationPath: requiredString(),
    userName: requiredString(),
    password: looseString(),
    rwDir: looseString(),
    rwFile: looseString(),
    startScript: requiredString(),
    stopScript: looseString().describe('required for mode update'),
    healthScript: looseString().describe('run after start, retried until it exits 0'),
    args: looseString(),
    clearPath: looseString(),
    targets: targetsField(),
    strategy: strategyField(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.endpoint?.trim() && !r.packageKey?.trim()) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'EMPTY' });
    if (r.mode === 'update' && !r.stopScript?.trim()) ctx.addIssue({ code: 'custom', path: ['stopScript'], message: 'EMPTY' });
  });
export type ReleaseInput = z.output<typeof releaseInput>;

/** What every host of a release does, checked once (paths, user, scripts) before any host is touched. */
export interface ReleasePlan {
  id: string;
  mode: 'new' | 'update';
  user: AppUser;
  dir: InstallDir;
  start: string;
  stop: string | undefined;
  health: string | undefined;
  clear: string[];
  args: string | undefined;
}

/** The host plan of a validated release; throws InputError naming the field. */
export function planRelease(id: string, r: ReleaseInput): ReleasePlan {
  const dir = parseInstallDir(r.destinationPath);
  return {
    id,
    mode: r.mode,
    user: parseAppUser(r.userName),
    dir,
    start: scriptPaths(r.startScript, dir, 'startScript'),
    stop: r.stopScript?.trim() ? scriptPaths(r.stopScript, dir, 'stopScript') : undefined,
    health: r.healthScript?.trim() ? scriptPaths(r.healthScript, dir, 'healthScript') : undefined,
    clear: clearPaths(r.clearPath, dir),
    args: r.args,
  };
}

const NAME_CHARS = /[^A-Za-z0-9_-]+/g;

/** A Step Functions execution name (≤ 80 of `[A-Za-z0-9_-]`) from a label and a unique suffix. */
export function executionName(label: string | undefined, suffix: string): string {
  const tail = suffix.replace(NAME_CHARS, '-').slice(0, 40);
  const base =
    (label ?? '')
      .replace(NAME_CHARS, '-')
      .slice(0, 80 - tail.length - 1)
      .replace(/^-+|-+$/g, '') || 'release';
  return `${base}-${tail}`;
}

/** Checks a release id given by a caller (status calls): the execution-name alphabet only. */
export function releaseIdProblem(id: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,80}$/.test(id) ? undefined : 'must be 1-80 characters of letters, digits, _ and -';
}
