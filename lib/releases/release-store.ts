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
}
