import { randomBytes } from 'node:crypto';
import { normalisedRef, readPackage, type PackageRead } from '../artifacts/normalise-package.js';
import { archiveType, type ArchiveFormat } from '../artifacts/package-name.js';
import { baseName, parseEndpoint, type ParsedEndpoint } from '../artifacts/parse-endpoint.js';
import { InputError } from '../errors.js';
import type { ItemOutcome, RunContext } from '../outcome.js';
import { applySteps, stepsError } from '../salt/apply-steps.js';
import { copySteps, md5Detail } from './copy-states.js';
import { batchOptions, type HostDeps } from './deps.js';
import { absolutePathProblem, destinationFile, normalisePath, type Owner } from './host-path.js';

/** One copy: the typed input of copyFiles (apply-deployment and releases call it too). */
export interface CopyRequest {
  target: string;
  endpoint: string;
  destinationPath: string;
  unpack: boolean;
  fileOwner?: Owner | undefined;
}

/** What one copy produced (a type, not an interface: operation outputs must be assignable to Record<string, unknown>). */
export type CopyOutput = {
  /** `{"return": [{"<target>": "<md5 of the file>"}]}`, as upstream. */
  detail: string;
};

interface Prepared {
  item: CopyRequest;
  ref: ParsedEndpoint;
  destination: string;
  format: ArchiveFormat | undefined;
  key: string;
}

/** Parses one item's endpoint and destination; throws InputError with upstream's texts. */
export function prepareCopy(item: CopyRequest): Prepared {
  const ref = parseEndpoint(item.endpoint);
  const file = destinationFile(item.destinationPath, baseName(ref));
  const problem = absolutePathProblem(file);
  if (problem) throw new InputError(`Parameter destinationPath validation failed: ${problem}`);
  const destination = normalisePath(file);
  if (destination === '/') throw new InputError('Parameter destinationPath validation failed: must name a file');
  let format: ArchiveFormat | undefined;
  if (item.unpack) {
    format = archiveType(destination)?.format;
    if (!format) throw new InputError(`File ${destination.toLowerCase()} is illegal to be recognized as a compressed file type`);
  }
  return { item, ref, destination, format, key: `${ref.bucket}\u0000${ref.key}\u0000${format ?? ''}` };
}

/** Runs `fn` over `values` with at most `limit` at a time; results in order, failures kept per value. */
async function settleLimited<T, R>(values: T[], limit: number, fn: (v: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(values.length);
  let next = 0;
  const worker = async () => {
    while (next < values.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(values[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), values.length) }, worker));
  return results;
}

/**
 * host-file/copy's core: every distinct object is read once by the handler (md5, sha256; an archive is
 * judged entry by entry and re-written as a normalised tar.gz), then each host fetches it from a presigned
 * URL with `file.managed` (sha256 verified), unpacks the normalised archive through a staging directory
 * when asked, and owns it as `fileOwner`. Requests that copy the same object to the same place go to salt
 * as one job on a host list. Destinations are judged here whoever the caller is.
 */
export async function copyFiles(deps: HostDeps, items: readonly CopyRequest[], ctx: RunContext): Promise<ItemOutcome<CopyOutput>[]> {
  const outcomes = new Array<ItemOutcome<CopyOutput>>(items.length);
  const prepared = items.map((item, i) => {
    try {
      return prepareCopy(item);
    } catch (error) {
      outcomes[i] = { ok: false, error };
      return undefined;
    }
  });

  const distinct = [...new Map(prepared.flatMap((p) => (p ? [[p.key, p] as const] : []))).values()];
  const store = deps.store();
  const inspected = await settleLimited(distinct, ctx.concurrency, async (p) => {
    const facts = await readPackage(store, p.ref, {
      format: p.format,
      archive: baseName(p.ref),
      normaliseTo: p.format && normalisedRef(p.ref, deps.config.s3.bucket),
      signal: ctx.signal,
    });
    const url = await store.presignGet(p.ref, deps.config.s3.presignExpiresS);
    const unpackUrl = facts.normalised && (await store.presignGet(facts.normalised.ref, deps.config.s3.presignExpiresS));
    ctx.logger.info('artifact inspected', { endpoint: p.ref.url, size: facts.size, md5: facts.md5, entries: facts.entries });
    return { facts, url, unpackUrl };
  });
  const byKey = new Map<string, PromiseSettledResult<{ facts: PackageRead; url: string; unpackUrl: string | undefined }>>(
    distinct.map((p, i) => [p.key, inspected[i]!]),
  );

  const stagingName = `.wecube-unpack-${randomBytes(6).toString('hex')}`;
  const calls: Array<{ index: number; host: string; md5: string; steps: ReturnType<typeof copySteps> }> = [];
  prepared.forEach((p, index) => {
    if (!p) return;
    const got = byKey.get(p.key)!;
    if (got.status === 'rejected') {
      outcomes[index] = { ok: false, error: got.reason };
      return;
    }
    const { facts, url, unpackUrl } = got.value;
    const steps = copySteps({
      destination: p.destination,
      source: url,
      sha256: facts.sha256,
      owner: p.item.fileOwner,
      ...(facts.normalised && unpackUrl && { unpack: { source: unpackUrl, sha256: facts.normalised.sha256, topLevel: facts.topLevel ?? [], stagingName } }),
    });
    calls.push({ index, host: p.item.target, md5: facts.md5, steps });
  });

  const results = await applySteps(deps.salt(), calls, batchOptions(deps, ctx, true)).finally(() =>
    // The normalised archives served their one job (a bucket lifecycle rule expires any left behind).
    Promise.all(
      inspected.map((r) =>
        r.status === 'fulfilled' && r.value.facts.normalised ? store.remove(r.value.facts.normalised.ref).catch(() => undefined) : undefined,
      ),
    ),
  );
  results.forEach((result, i) => {
    const call = calls[i]!;
    outcomes[call.index] = result.ok
      ? { ok: true, output: { detail: md5Detail(call.host, call.md5) } }
      : { ok: false, error: stepsError(result, `Copy of ${prepared[call.index]!.ref.url} to ${prepared[call.index]!.destination}`) };
  });
  return outcomes;
}
