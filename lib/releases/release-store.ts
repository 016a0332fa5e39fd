import type { TargetExpression } from '../salt/target-expression.js';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { PutOptions } from '../artifacts/artifact-store.js';
import { ArtifactNotFoundError, ArtifactStoreError, ConfigError } from '../errors.js';
import type { PackageFacts } from '../deploy/host-steps.js';
import { describeJsonProblem } from '../text/json-problem.js';
import type { Runtime } from '../runtime-types.js';
import type { ReleaseInput, ReleasePlan } from './release-request.js';
import type { Strategy } from './release-plan.js';

/** Where a host is in a release. */
export type HostState = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled-back' | 'skipped';

/** The progress record of one host, rewritten by every step (status calls read it). */
export interface HostRecord {
  host: string;
  state: HostState;
  /** The step running, or the step that failed. */
  step?: string | undefined;
  /** Steps finished, in order (a rollback reads them to undo exactly what was done). */
  done: string[];
  error?: string | undefined;
  rollback?: string | undefined;
  updatedAt: string;
}

/**
 * What the prepare step decided, read by every host step (payloads between states stay small). It holds
 * no secret: the password and seed the ensure-user step needs are read from the request record.
 */
export interface ReleaseRecord {
  plan: ReleasePlan;
  pkg: PackageFacts;
  s3PkgPath: string;
  /** The package was re-packed with the variables substituted (it holds their values): removed at the end. */
  repacked?: boolean | undefined;
  /** Where the request record is (the only record holding the release's secrets, until it ends). */
  request: { bucket: string; key: string };
  targets: string[];
  /** The salt target expression release/start resolved the targets from (none for a host list). */
  targetsFrom?: TargetExpression | undefined;
  batches: string[][];
  /** Hosts per slice (one child execution of the batch's Distributed Map): history-budget.ts sliceSizeFor. */
  sliceSize: number;
  /** The strategy as given (validated), and its failure budget and health floor in hosts. */
  strategy: Strategy;
  maxFailures: number;
  minHealthy: number;
  guid: string;
  rwDir: string | undefined;
  rwFile: string | undefined;
  createdAt: string;
}

/**
 * The fields of a release request that are secrets (or hold them: variableList carries passwords in
 * clear or `{cipher_a}` form, sysPrivateKey decrypts the encrypted ones). Only the request record holds
 * them, and only while the release runs.
 */
export const REQUEST_SECRET_FIELDS = ['password', 'seed', 'variableList', 'sysPrivateKey'] as const satisfies ReadonlyArray<keyof ReleaseInput>;

/** A request record without its secrets (what is kept once the release has ended): the other fields as given. */
export function withoutSecrets(request: unknown): Record<string, unknown> | undefined {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return undefined;
  const kept: Record<string, unknown> = { ...(request as Record<string, unknown>) };
  const removed = REQUEST_SECRET_FIELDS.filter((f) => kept[f] !== undefined && kept[f] !== null && kept[f] !== '');
  for (const field of REQUEST_SECRET_FIELDS) delete kept[field];
  return { ...kept, secretsRemoved: removed };
}

/** The end of a release, as the finish step wrote it. */
export interface ReleaseResult {
  status: ReleaseStatus;
  summary: string;
  hosts: Array<Pick<HostRecord, 'host' | 'state' | 'step' | 'error' | 'rollback'>>;
  finishedAt: string;
  /** Release events a destination did not take (written once the last one was tried). */
  eventsFailed?: number | undefined;
}

/**
 * SUCCEEDED: every host runs the new version. ROLLED_BACK: some hosts failed and each of them was put back
 * (the others run the new version or were not touched). LEFT_CHANGED: at least one failed host could not be
 * put back. PREPARE_FAILED: the package or the request was refused; no host was touched.
 */
export type ReleaseStatus = 'SUCCEEDED' | 'ROLLED_BACK' | 'LEFT_CHANGED' | 'PREPARE_FAILED' | 'STOPPED';

/** A stop asked for by release/stop: the tasks read it before each forward step and before each batch. */
export interface StopRequest {
  requestedAt: string;
}

/** A release event a destination did not take (one object per event and destination: retries count once). */
export interface EventFailure {
  sequence: number;
  type: string;
  target: string;
  reason: string;
  at: string;
}

/** How far a release has gone, written by each Advance: release/stop numbers its event from it. */
export interface ReleaseProgress {
  batchesDone: number;
  at: string;
}

/**
 * A release as release/list shows it: written when it starts, rewritten when it ends. Kept under an index
 * key that sorts newest first (S3 lists keys in ascending order).
 */
export interface ReleaseListing {
  releaseId: string;
  name?: string | undefined;
  targets: number;
  startedAt: string;
  result?: ReleaseStatus | undefined;
  finishedAt?: string | undefined;
}

/** Larger than any millisecond timestamp until the year 2286: `MAX - ms` sorts newest first in 13 digits. */
const INDEX_MAX_MS = 9_999_999_999_999;

/** The index of releases, beside the release directories (no release id has a `.`). */
const INDEX_DIR = '.index/';

/** The index key of a release started at `startedAt`: newest first, then by id. */
export const listingKey = (prefix: string, startedAt: string, id: string): string =>
  `${prefix}${INDEX_DIR}${String(INDEX_MAX_MS - Date.parse(startedAt)).padStart(13, '0')}_${id}`;

const encodeHost = (host: string) => encodeURIComponent(host);

/** The release records of a runtime: its artifact bucket and prefix, the request record encrypted as configured. */
export const releaseStoreOf = (rt: Pick<Runtime, 'store' | 'config'>) =>
  new ReleaseStore(rt.store, rt.config.s3.bucket, rt.config.releases.prefix, rt.config.releases.requestEncryption);

/** Release records as JSON objects under `<prefix><release id>/` in the artifact bucket. */
export class ReleaseStore {
  /** `requestEncryption`: how the request record (secrets) is written, e.g. SSE-KMS with RELEASE_KMS_KEY_ID. */
  constructor(
    private readonly store: () => ArtifactStore,
    private readonly bucket: string | undefined,
    private readonly prefix: string,
    private readonly requestEncryption?: PutOptions['encryption'],
  ) {}

  private ref(id: string, name: string) {
    if (!this.bucket) throw new ConfigError('S3_BUCKET is not set: releases keep their records in the artifact bucket');
    const key = `${this.prefix}${id}/${name}`;
    return { bucket: this.bucket, key, url: `s3://${this.bucket}/${key}` };
  }

  requestRef(id: string) {
    return this.ref(id, 'request.json');
  }

  async putJson(ref: { bucket: string; key: string; url: string }, value: unknown, options: PutOptions = {}): Promise<void> {
    await this.store().put(ref, Readable.from([Buffer.from(JSON.stringify(value, null, 1))]), options);
  }

  /** Writes the request record of a release, encrypted as configured (it is the one object holding its secrets). */
  putRequest(id: string, request: unknown) {
    return this.putJson(this.requestRef(id), request, { encryption: this.requestEncryption });
  }

  /**
   * Rewrites the request record without its secrets (the end of a release, whatever its outcome); one
   * that is not a JSON object (a refused request) is removed. Nothing happens when there is none.
   */
  async dropRequestSecrets(ref: { bucket: string; key: string; url: string }): Promise<void> {
    let raw: unknown;
    try {
      raw = await this.getJson<unknown>(ref);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      raw = null;
    }
    if (raw === undefined) return;
    const kept = withoutSecrets(raw);
    if (!kept) return this.store().remove(ref);
    // a Finish retried after it had done this: the record says what was removed the first time
    if (!(kept['secretsRemoved'] as string[]).length && 'secretsRemoved' in (raw as object)) return;
    await this.putJson(ref, kept, { encryption: this.requestEncryption });
  }

  /**
   * Reads a record; undefined when there is none. A read racing a rewrite of the same object can be cut
   * off on S3-compatible servers that replace files in place (s3rver): it is tried again, twice.
   */
  async getJson<T>(ref: { bucket: string; key: string; url: string }): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      let text = '';
      try {
        const { body } = await this.store().get(ref);
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        text = Buffer.concat(chunks).toString('utf8');
        return JSON.parse(text) as T;
      } catch (error) {
        if (error instanceof ArtifactNotFoundError) return undefined;
        const torn = error instanceof ArtifactStoreError || error instanceof SyntaxError;
        // JSON.parse's message quotes the object (a manifest's passwords): this one says where it breaks
        if (!torn || attempt >= 3) throw error instanceof SyntaxError ? new SyntaxError(`${ref.url} is not valid JSON: ${describeJsonProblem(text)}`) : error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  putRelease(id: string, record: ReleaseRecord) {
    return this.putJson(this.ref(id, 'release.json'), record);
  }

  getRelease(id: string) {
    return this.getJson<ReleaseRecord>(this.ref(id, 'release.json'));
  }

  putHost(id: string, record: HostRecord) {
    return this.putJson(this.ref(id, `hosts/${encodeHost(record.host)}.json`), record);
  }

  getHost(id: string, host: string) {
    return this.getJson<HostRecord>(this.ref(id, `hosts/${encodeHost(host)}.json`));
  }

  putResult(id: string, result: ReleaseResult) {
    return this.putJson(this.ref(id, 'result.json'), result);
  }

  getResult(id: string) {
    return this.getJson<ReleaseResult>(this.ref(id, 'result.json'));
  }

  putStop(id: string, stop: StopRequest) {
    return this.putJson(this.ref(id, 'stop.json'), stop);
  }

  getStop(id: string) {
    return this.getJson<StopRequest>(this.ref(id, 'stop.json'));
  }

  putProgress(id: string, progress: ReleaseProgress) {
    return this.putJson(this.ref(id, 'progress.json'), progress);
  }

  getProgress(id: string) {
    return this.getJson<ReleaseProgress>(this.ref(id, 'progress.json'));
  }

  putEventFailure(id: string, failure: EventFailure) {
    const target = failure.target.replace(/[^A-Za-z0-9._-]+/g, '-');
    return this.putJson(this.ref(id, `events-failed/${String(failure.sequence).padStart(8, '0')}-${failure.type}-${target}.json`), failure);
  }

  /** How many events of a release some destination did not take (a listing of its events-failed/ records). */
  async countEventFailures(id: string): Promise<number> {
    const { bucket, key } = this.ref(id, 'events-failed/');
    let total = 0;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.store().list(bucket, key, { startAfter });
      total += page.keys.length;
      if (!page.more || !page.keys.length) return total;
      startAfter = page.keys[page.keys.length - 1];
    }
  }

  /**
   * Lists a release (release/list): its listing record, and an empty index object whose key sorts it
   * newest first. Written once when it starts; the end rewrites the record only (updateListing).
   */
  async putListing(listing: ReleaseListing): Promise<void> {
    await this.putJson(this.ref(listing.releaseId, 'listing.json'), listing);
    const key = listingKey(this.prefix, listing.startedAt, listing.releaseId);
    await this.store().put({ bucket: this.bucket!, key, url: `s3://${this.bucket}/${key}` }, Readable.from([Buffer.alloc(0)]));
  }

  getListing(id: string) {
    return this.getJson<ReleaseListing>(this.ref(id, 'listing.json'));
  }

  /** Rewrites the listing record of a release (its end); nothing when it was never listed. */
  async updateListing(id: string, changes: Pick<ReleaseListing, 'result' | 'finishedAt'>): Promise<boolean> {
    const listing = await this.getListing(id);
    if (!listing) return false;
    await this.putJson(this.ref(id, 'listing.json'), { ...listing, ...changes });
    return true;
  }

  /**
   * One page of releases, newest first: the index keys after `after` (the last key of the previous page), at
   * most `limit`, each with its listing record; `next` is the last key given when more follow.
   */
  async listListings(limit: number, after?: string): Promise<{ listings: ReleaseListing[]; next: string | undefined }> {
    const { bucket } = this.ref('-', 'listing.json'); // the ConfigError without S3_BUCKET
    const head = `${this.prefix}${INDEX_DIR}`;
    const page = await this.store().list(bucket, head, { startAfter: after, limit });
    const ids = page.keys.map((key) => key.slice(head.length + 14)); // <13 digits>_<id>
    const listings = await Promise.all(ids.map((id) => this.getListing(id)));
    return {
      listings: listings.filter((l): l is ReleaseListing => l !== undefined),
      next: page.more ? page.keys[page.keys.length - 1] : undefined,
    };
  }

  /** Whether `key` could be an index key of this store (a nextToken a caller gives back). */
  isListingKey(key: string): boolean {
    const head = `${this.prefix}${INDEX_DIR}`;
    return key.startsWith(head) && /^\d{13}_[A-Za-z0-9_-]{1,80}$/.test(key.slice(head.length));
  }
}
