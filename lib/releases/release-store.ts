import { Readable } from 'node:stream';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ArtifactNotFoundError, ArtifactStoreError, ConfigError } from '../errors.js';
import type { PackageFacts } from '../deploy/host-steps.js';
import type { ReleasePlan } from './release-request.js';

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

/** What the prepare step decided, read by every host step (payloads between states stay small). */
export interface ReleaseRecord {
  plan: ReleasePlan;
  pkg: PackageFacts;
  s3PkgPath: string;
  targets: string[];
  batches: string[][];
  strategy: { batchSize: number; maxFailures: number };
  guid: string;
  seed: string | undefined;
  password: string | undefined;
  rwDir: string | undefined;
  rwFile: string | undefined;
  createdAt: string;
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
export type ReleaseStatus = 'SUCCEEDED' | 'ROLLED_BACK' | 'LEFT_CHANGED' | 'PREPARE_FAILED';

const encodeHost = (host: string) => encodeURIComponent(host);

/** Release records as JSON objects under `<prefix><release id>/` in the artifact bucket. */
export class ReleaseStore {
  constructor(
    private readonly store: () => ArtifactStore,
    private readonly bucket: string | undefined,
    private readonly prefix: string,
  ) {}

  private ref(id: string, name: string) {
    if (!this.bucket) throw new ConfigError('S3_BUCKET is not set: releases keep their records in the artifact bucket');
    const key = `${this.prefix}${id}/${name}`;
    return { bucket: this.bucket, key, url: `s3://${this.bucket}/${key}` };
  }

  requestRef(id: string) {
    return this.ref(id, 'request.json');
  }

  async putJson(ref: { bucket: string; key: string; url: string }, value: unknown): Promise<void> {
    await this.store().put(ref, Readable.from([Buffer.from(JSON.stringify(value, null, 1))]));
  }

  /**
   * Reads a record; undefined when there is none. A read racing a rewrite of the same object can be cut
   * off on S3-compatible servers that replace files in place (s3rver): it is tried again, twice.
   */
  async getJson<T>(ref: { bucket: string; key: string; url: string }): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { body } = await this.store().get(ref);
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
      } catch (error) {
        if (error instanceof ArtifactNotFoundError) return undefined;
        const torn = error instanceof ArtifactStoreError || error instanceof SyntaxError;
        if (!torn || attempt >= 3) throw error;
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
}
