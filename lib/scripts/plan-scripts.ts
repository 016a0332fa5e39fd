import { posix } from 'node:path';
import { parseEndpoint, type ParsedEndpoint } from '../artifacts/parse-endpoint.js';
import { splitList } from '../text/split-list.js';
import { pathProblem } from './script-path.js';
import { shellWords } from './shell-quote.js';

/** Where one script comes from. */
export type ScriptSource = { kind: 'local'; path: string } | { kind: 's3'; ref: ParsedEndpoint } | { kind: 'inline'; content: string };

/** One script of an item: what to run, its argv after the script, and the directory it runs in. */
export interface ScriptStep {
  /** How the caller named it (path, URL, or "scriptContent"), for messages. */
  label: string;
  source: ScriptSource;
  args: string[];
  /** Absolute working directory; undefined = the run-as user's home (salt's and sshd's default). */
  cwd: string | undefined;
}

/** The endpointType values a script item may carry. */
export const ENDPOINT_TYPES = ['LOCAL', 'S3', 'USER_PARAM'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

export interface ScriptRequest {
  endpointType: EndpointType;
  endpoint: string | undefined;
  scriptContent: string | undefined;
  /** The item's `args`, already split into words. */
  args: string[];
  workDir: string | undefined;
}

/** A refused field: which one, and why. */
export interface PlanProblem {
  field: 'endpoint' | 'scriptContent';
  message: string;
}

/** Content without a `#!` line runs with /bin/sh, as it did when salt handed scripts to a shell. */
export const withShebang = (content: string): string => (content.startsWith('#!') ? content : `#!/bin/sh\n${content}`);

function localStep(entry: string, request: ScriptRequest): ScriptStep | PlanProblem {
  const words = shellWords(entry);
  if (typeof words === 'string') return { field: 'endpoint', message: `${entry}: ${words}` };
  const [given = '', ...entryArgs] = words;
  if (given.split('/').includes('..')) return { field: 'endpoint', message: `${given} must not contain ..` };
  // workDir is a directory a relative script path is resolved in, not a string prefix (upstream glued them).
  const path = given.startsWith('/') ? posix.normalize(given) : request.workDir ? posix.join(request.workDir, given) : given;
  const problem = pathProblem(path);
  if (problem) {
    const hint = path.startsWith('/') ? '' : ' (give an absolute path, or a workDir to resolve it in)';
    return { field: 'endpoint', message: `script ${given} ${problem}${hint}` };
  }
  if (path.endsWith('/')) return { field: 'endpoint', message: `script ${given} is a directory` };
  return {
    label: given,
    source: { kind: 'local', path },
    args: [...entryArgs, ...request.args],
    // Upstream ran `cd <script dir> && ./<script>`: without a workDir the script runs in its own directory.
    cwd: request.workDir ?? (posix.dirname(path) || '/'),
  };
}

/**
 * The scripts an item runs, in order: LOCAL paths (each may carry arguments after the path, shell-quoted),
 * S3 URLs, or the inline scriptContent. Pure; returns a problem naming the field instead of throwing.
 * An empty LOCAL endpoint or empty scriptContent gives no script at all (upstream: success, empty detail).
 */
export function planScripts(request: ScriptRequest): ScriptStep[] | PlanProblem {
  switch (request.endpointType) {
    case 'LOCAL': {
      const steps: ScriptStep[] = [];
      for (const entry of splitList(request.endpoint)) {
        const step = localStep(entry, request);
        if ('field' in step) return step;
        steps.push(step);
      }
      return steps;
    }
    case 'S3': {
      const urls = splitList(request.endpoint);
      if (!urls.length) return { field: 'endpoint', message: 'endpoint can not empty when endpointType=S3' };
      const steps: ScriptStep[] = [];
      for (const url of urls) {
        try {
          steps.push({ label: url, source: { kind: 's3', ref: parseEndpoint(url) }, args: request.args, cwd: request.workDir });
        } catch (error) {
          return { field: 'endpoint', message: (error as Error).message };
        }
      }
      return steps;
    }
    case 'USER_PARAM': {
      const content = request.scriptContent ?? '';
      if (content.includes('\0')) return { field: 'scriptContent', message: 'contains a NUL byte' };
      if (!content.trim()) return [];
      return [{ label: 'scriptContent', source: { kind: 'inline', content: withShebang(content) }, args: request.args, cwd: request.workDir }];
    }
  }
}
