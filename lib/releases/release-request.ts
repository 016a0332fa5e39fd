import { z } from 'zod';
import { InputError } from '../errors.js';
import { looseString, requiredString } from '../input/fields.js';
import { splitList } from '../text/split-list.js';
import { targetExpressionField, type TargetExpression } from '../salt/target-expression.js';
import { strategyField } from './release-plan.js';
import { clearPaths, parseAppUser, parseInstallDir, scriptPaths, type AppUser, type InstallDir } from '../deploy/deploy-plan.js';

const HOST = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}$/;

/**
 * Release targets: a JSON array of minion ids or a `,`/`|` list (duplicates dropped, order kept), or a salt
 * target expression `{type, expression}` that release/start resolves with the master's matching.
 */
const targetsField = () =>
  z
    .unknown()
    .transform((v, ctx): string[] | TargetExpression => {
      // by shape, so that each form reports its own problem (a union would only say "wrong type")
      const parsed = (v !== null && typeof v === 'object' && !Array.isArray(v) ? targetExpressionField() : hostListField()).safeParse(v);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    })
    .describe('minion ids (array or "," list), or a salt target expression {"type": "grain", "expression": "role:web"}');

const hostListField = () =>
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
/** A release request as given: its targets a host list or a salt expression. */
export type ReleaseRequest = z.output<typeof releaseInput>;

/** A release request whose targets are minion ids (an expression resolved, and kept as targetsFrom). */
export type ReleaseInput = Omit<ReleaseRequest, 'targets'> & { targets: string[]; targetsFrom?: TargetExpression | undefined };

/** The request with its host list; throws InputError for a target expression not resolved yet (release/start resolves it). */
export function withHostList(r: ReleaseRequest, targetsFrom?: TargetExpression): ReleaseInput {
  if (!Array.isArray(r.targets)) throw new InputError('Parameter targets validation failed: a target expression must be resolved by release/start first');
  return { ...r, targets: r.targets, ...(targetsFrom && { targetsFrom }) };
}

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
export function planRelease(id: string, r: Omit<ReleaseRequest, 'targets'>): ReleasePlan {
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
