import { z } from 'zod';
import { InputError, ReleaseNotFoundError } from '../errors.js';
import type { Runtime } from '../runtime-types.js';
import { commonFields, looseString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { releaseStoreOf, type ReleaseListing } from './release-store.js';
import { executionArnOf } from './step-functions-port.js';

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

/** `limit`: a count 1-100 (a JSON number or its string), absent = 20. */
const limitField = () =>
  looseString().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return LIST_DEFAULT_LIMIT;
    const n = Number(v);
    if (Number.isInteger(n) && n >= 1 && n <= LIST_MAX_LIMIT) return n;
    ctx.addIssue({ code: 'custom', message: `must be an integer from 1 to ${LIST_MAX_LIMIT}, got ${JSON.stringify(v.slice(0, 20))}` });
    return z.NEVER;
  });

// nextToken is opaque to callers: the last index key of the page, base64url-encoded.
const tokenOf = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const keyOf = (token: string) => Buffer.from(token, 'base64url').toString('utf8');

/** One release as release/list shows it. */
const listedRelease = z.object({
  releaseId: z.string(),
  name: z.string().optional(),
  targets: z.number().describe('how many hosts it targets'),
  status: z.string().describe('RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (the execution); UNKNOWN when only its records are left'),
  result: z.string().optional().describe('SUCCEEDED, ROLLED_BACK, LEFT_CHANGED, STOPPED, PREPARE_FAILED once finished'),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});

/**
 * release/list: recent releases, newest first, from the release records (an index under RELEASE_PREFIX
 * whose keys sort newest first, so a page is one S3 listing and one small read per release). Paged by
 * `limit` and `nextToken`. The execution is asked for the state of releases not yet ended only.
 */
export const releaseList = (rt: Runtime) =>
  defineOperation({
    plugin: 'release',
    action: 'list',
    summary: 'Recent releases, newest first (name, targets, status, result, start and end), paged by limit and nextToken',
    input: z
      .object({
        ...commonFields,
        limit: limitField().describe(`releases per page, 1-${LIST_MAX_LIMIT} (default ${LIST_DEFAULT_LIMIT})`),
        nextToken: looseString().describe("the previous page's nextToken: the page after it"),
      })
      .strict(),
    output: z.object({
      releases: z.array(listedRelease),
      nextToken: z.string().optional().describe('absent on the last page'),
    }),
    run: eachItem(async (item) => {
      const records = releaseStoreOf(rt);
      const token = item.nextToken?.trim();
      const after = token ? keyOf(token) : undefined;
      if (after !== undefined && !records.isListingKey(after)) {
        throw new InputError('Parameter nextToken validation failed: not a nextToken given by release/list (start again without one)');
      }
      const { listings, next } = await records.listListings(item.limit, after);
      const { port, stateMachineArn } = await rt.releaseRunner();
      const statusOf = async (listing: ReleaseListing): Promise<string> => {
        if (listing.result) return listing.result === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
        try {
          return (await port.describeExecution({ executionArn: executionArnOf(stateMachineArn, listing.releaseId) })).status;
        } catch (error) {
          if (error instanceof ReleaseNotFoundError) return 'UNKNOWN';
          throw error;
        }
      };
      const releases = await Promise.all(
        listings.map(async (listing) => ({
          releaseId: listing.releaseId,
          ...(listing.name && { name: listing.name }),
          targets: listing.targets,
          status: await statusOf(listing),
          ...(listing.result && { result: listing.result }),
          startedAt: listing.startedAt,
          ...(listing.finishedAt && { finishedAt: listing.finishedAt }),
        })),
      );
      return { releases, ...(next && { nextToken: tokenOf(next) }) };
    }),
  });
