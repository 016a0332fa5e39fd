import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ConfigError, InputError } from '../errors.js';
import { applySteps, stepsError } from '../salt/apply-steps.js';
import { commonFields, requiredString, safeToken } from '../input/fields.js';
import { defineOperation, type ItemOutcome } from '../wecube/operation.js';
import { copySteps, md5Detail } from './copy-states.js';
import { batchOptions, type HostDeps } from './deps.js';
import { normalisePath } from './host-path.js';
import { hostPathField, modeField, ownerField } from './path-fields.js';

/** The content comes inside the request (API Gateway takes 10 MB, a Lambda payload 6 MB). */
export const MAX_CONTENT_BYTES = 4 * 1024 * 1024;

/** Where content waits for the hosts to fetch it; removed once the request is done. */
const STAGING_PREFIX = '.wecube-plugin/host-file-create/';

const input = z.object({
  ...commonFields,
  target: safeToken('target'),
  fileContent: requiredString(),
  destinationPath: hostPathField(),
  fileOwner: ownerField(),
  fileMode: modeField().describe('3 or 4 octal digits (default: 0644 for a new file, unchanged for an existing one)'),
});

const output = z.object({ detail: z.string().describe('{"return": [{"<target>": "<md5 of the content>"}]}') });
type CreateOutput = z.output<typeof output>;

/**
 * host-file/create: writes inline content to a file on hosts, byte for byte (salt's inline `contents`
 * rewrites line endings and drops final newlines): the content is staged once in the artifact bucket and
 * each host fetches it like a copy (sha256 verified, written atomically), then the staged object is removed.
 */
export const hostFileCreate = (deps: HostDeps) =>
  defineOperation({
    plugin: 'host-file',
    action: 'create',
    summary: 'Write inline content to a file on hosts (byte for byte), optionally with owner and mode',
    input,
    output,
    run: async (items, ctx): Promise<ItemOutcome<CreateOutput>[]> => {
      const outcomes = new Array<ItemOutcome<CreateOutput>>(items.length);
      const bucket = deps.config.s3.bucket;
      const staged = new Map<string, { key: string; url?: string; error?: unknown }>();
      const valid: Array<{ index: number; destination: string; sha256: string; md5: string }> = [];
      items.forEach((item, index) => {
        const bytes = Buffer.byteLength(item.fileContent, 'utf8');
        if (item.destinationPath.endsWith('/') || normalisePath(item.destinationPath) === '/') {
          outcomes[index] = { ok: false, error: new InputError('Parameter destinationPath validation failed: must name a file, not a directory') };
        } else if (bytes > MAX_CONTENT_BYTES) {
          outcomes[index] = {
            ok: false,
            error: new InputError(`Parameter fileContent validation failed: ${bytes} bytes is more than ${MAX_CONTENT_BYTES}; use host-file/copy from S3`),
          };
        } else if (!bucket) {
          outcomes[index] = { ok: false, error: new ConfigError('S3_BUCKET is not set: host-file/create stages the content in the artifact bucket') };
        } else {
          const sha256 = createHash('sha256').update(item.fileContent, 'utf8').digest('hex');
          if (!staged.has(sha256)) staged.set(sha256, { key: `${STAGING_PREFIX}${randomUUID()}` });
          valid.push({
            index,
            destination: normalisePath(item.destinationPath),
            sha256,
            md5: createHash('md5').update(item.fileContent, 'utf8').digest('hex'),
          });
        }
      });

      const store = deps.store();
      const contentOf = new Map(valid.map((v) => [v.sha256, items[v.index]!.fileContent]));
      try {
        await Promise.all(
          [...staged].map(async ([sha256, entry]) => {
            const ref = { bucket: bucket!, key: entry.key, url: `s3://${bucket}/${entry.key}` };
            try {
              await store.put(ref, Readable.from([Buffer.from(contentOf.get(sha256)!, 'utf8')]), { signal: ctx.signal });
              entry.url = await store.presignGet(ref, deps.config.s3.presignExpiresS);
            } catch (error) {
              entry.error = error;
            }
          }),
        );
        const calls = valid.flatMap((v) => {
          const entry = staged.get(v.sha256)!;
          if (entry.error || !entry.url) {
            outcomes[v.index] = { ok: false, error: entry.error };
            return [];
          }
          const item = items[v.index]!;
          const steps = copySteps({ destination: v.destination, source: entry.url, sha256: v.sha256, owner: item.fileOwner, mode: item.fileMode });
          return [{ ...v, host: item.target, steps }];
        });
        const results = await applySteps(deps.salt(), calls, batchOptions(deps, ctx));
        results.forEach((result, i) => {
          const call = calls[i]!;
          outcomes[call.index] = result.ok
            ? { ok: true, output: { detail: md5Detail(call.host, call.md5) } }
            : { ok: false, error: stepsError(result, `Writing ${call.destination}`) };
        });
      } finally {
        await Promise.all(
          [...staged.values()].map((e) =>
            store
              .remove({ bucket: bucket!, key: e.key, url: e.key })
              .catch((error: unknown) => ctx.logger.warn('staged content not removed', { key: e.key, error })),
          ),
        );
      }
      return outcomes;
    },
  });
