import { InputError, JobFailedError } from '../errors.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import { hostError } from '../salt/host-error.js';
import { runBatched, type HostCall } from '../salt/run-batched.js';
import { batchOptions, type HostDeps } from './deps.js';
import { globToRegex } from './glob-regex.js';
import { absolutePathProblem, nameOf, normalisePath, parentOf } from './host-path.js';

/**
 * Upstream's search (§7.3): `filePath` joined with `filePattern`, then file.find of the last segment as a
 * glob (`*`, `?`, `[a-z]`, `{a,b}`, everything else literal) under the directory part, recursively.
 * Throws InputError.
 */
export function findArgs(filePath: string, filePattern: string): { path: string; name: string } {
  const joined = `${filePath.trim()}/${filePattern.trim()}`;
  const problem = absolutePathProblem(joined);
  if (problem) throw new InputError(`Parameter filePath/filePattern validation failed: ${problem}`);
  const full = normalisePath(joined);
  if (full === '/') throw new InputError('Parameter filePattern validation failed: names no file');
  return { path: parentOf(full), name: nameOf(full) };
}

/** One search: the typed input of findFiles. */
export interface FindRequest {
  target: string;
  filePath: string;
  filePattern: string;
}

/** What one search found (a type, not an interface: operation outputs must be assignable to Record<string, unknown>). */
export type FindOutput = {
  /** The matching paths joined with ",", "" when none. */
  files: string;
};

/** host-file/find's core: glob searches on hosts; requests with the same search share one file.find job. */
export async function findFiles(deps: HostDeps, items: readonly FindRequest[], ctx: RunContext): Promise<ItemOutcome<FindOutput>[]> {
  const outcomes = new Array<ItemOutcome<FindOutput>>(items.length);
  const calls: Array<HostCall & { index: number }> = [];
  items.forEach((item, index) => {
    try {
      const { path, name } = findArgs(item.filePath, item.filePattern);
      calls.push({ index, host: item.target, fun: 'file.find', arg: [path], kwarg: { regex: globToRegex(name), print: 'path' } });
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  });
  const results = await runBatched(deps.salt(), calls, batchOptions(deps, ctx));
  results.forEach((result, i) => {
    const call = calls[i]!;
    if (!result.ok) outcomes[call.index] = { ok: false, error: hostError(result) };
    else if (!Array.isArray(result.ret)) {
      outcomes[call.index] = { ok: false, error: new JobFailedError(`unmarshal salt file.find result error: not a list from ${result.host}`, result.host) };
    } else {
      outcomes[call.index] = { ok: true, output: { files: result.ret.map(String).sort().join(',') } };
    }
  });
  return outcomes;
}
