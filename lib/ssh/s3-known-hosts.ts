import { Readable } from 'node:stream';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ArtifactNotFoundError } from '../errors.js';
import type { Runtime } from '../runtime-types.js';
import { MemoryKnownHosts, type KnownHosts } from './host-key-policy.js';

/**
 * Host keys recorded on first use, one small object per `host:port` under a prefix of the artifact
 * bucket: functions keep no disk between invocations, and every container must see the same records.
 */
export class S3KnownHosts implements KnownHosts {
  constructor(
    private readonly store: () => ArtifactStore,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  private ref(id: string) {
    const key = `${this.prefix}${id.replace(/[^A-Za-z0-9._:-]/g, '_')}`;
    return { bucket: this.bucket, key, url: `s3://${this.bucket}/${key}` };
  }

  describe(id: string): string {
    return this.ref(id).url;
  }

  async get(id: string): Promise<string | undefined> {
    try {
      const { body } = await this.store().get(this.ref(id));
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8').trim() || undefined;
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) return undefined;
      throw error;
    }
  }

  async record(id: string, fingerprint: string): Promise<void> {
    await this.store().put(this.ref(id), Readable.from([Buffer.from(`${fingerprint}\n`)]));
  }
}

/**
 * The host-key store of a runtime, built on first use: the artifact bucket (shared by agent/* and ssh-run)
 * or memory without one. Read when called, not before: the runtime may be a deferred one.
 */
export function knownHostsOf(rt: Pick<Runtime, 'config' | 'store'>): () => KnownHosts {
  let knownHosts: KnownHosts | undefined;
  return () => {
    const { s3, ssh } = rt.config;
    return (knownHosts ??= s3.bucket ? new S3KnownHosts(rt.store, s3.bucket, ssh.knownHostsPrefix) : new MemoryKnownHosts());
  };
}
