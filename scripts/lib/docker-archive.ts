/**
 * An image as a tar that `docker load` (and podman, skopeo `oci-archive:`, containerd import) reads, written
 * without a container engine: the OCI image layout (oci-layout, index.json, blobs/sha256/*) plus Docker's
 * manifest.json pointing at the same blobs, which is what `docker save` writes since Docker 25. Layers are
 * uncompressed tars, so each layer's digest is also its diff_id.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createTarWriter } from '../../lib/artifacts/write-archive.js';

/** The runtime part of an image config (Docker/OCI `config`): what a container of it runs. */
export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface DockerArchiveOptions {
  outFile: string;
  /** `name:tag` (RepoTags of manifest.json, the ref annotations of index.json). */
  tag: string;
  /** Uncompressed layer tars, base first, each with what its `history` entry says it adds. */
  layers: ReadonlyArray<{ file: string; createdBy: string }>;
  config: ContainerConfig;
  /** The image's creation time (fixed by the caller for reproducible digests). */
  created: Date;
  /** GOARCH-style architecture of the binaries in the layers (amd64, arm64). */
  architecture: string;
}

/** What was written: the digests, as `sha256:<hex>`. */
export interface DockerArchive {
  configDigest: string;
  manifestDigest: string;
  layerDigests: string[];
}

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** The sha256 of a file, streaming (layers are hundreds of MB). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const jsonBlob = (value: unknown) => Buffer.from(JSON.stringify(value));
const blobPath = (hex: string) => `blobs/sha256/${hex}`;

/** Docker's reference grammar, simplified: a lower-case name (no registry port) with an explicit tag. Throws on anything else. */
function checkTag(tag: string): void {
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.test(tag)) {
    throw new Error(`image tag ${JSON.stringify(tag)} is not name:tag (lower-case name, tag of [A-Za-z0-9_.-])`);
  }
}

/** Writes the image archive; throws when a layer cannot be read or the tag is malformed. */
export async function writeDockerArchive(options: DockerArchiveOptions): Promise<DockerArchive> {
  checkTag(options.tag);
  const layers = await Promise.all(options.layers.map(async (l) => ({ ...l, hex: await sha256File(l.file), size: statSync(l.file).size })));
  const created = options.created.toISOString();
  const configBlob = jsonBlob({
    created,
    architecture: options.architecture,
    os: 'linux',
    config: options.config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.hex}`) },
    history: layers.map((l) => ({ created, created_by: l.createdBy })),
  });
  const configHex = sha256(configBlob);
  const manifestBlob = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: `sha256:${configHex}`, size: configBlob.length },
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: `sha256:${l.hex}`, size: l.size })),
  });
  const manifestHex = sha256(manifestBlob);
  const [, tagPart] = options.tag.split(/:(?=[^:/]+$)/);
  const index = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [
      {
        mediaType: MEDIA.manifest,
        digest: `sha256:${manifestHex}`,
        size: manifestBlob.length,
        annotations: { 'io.containerd.image.name': options.tag, 'org.opencontainers.image.ref.name': tagPart },
      },
    ],
  });
  const dockerManifest = jsonBlob([{ Config: blobPath(configHex), RepoTags: [options.tag], Layers: layers.map((l) => blobPath(l.hex)) }]);

  const mtime = options.created;
  const out = createTarWriter(createWriteStream(options.outFile), { gzip: false });
  try {
    await out.add({ name: 'blobs/', type: 'directory', mode: 0o755, mtime });
    await out.add({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime });
    // Two layers may be byte-identical (rare, but a blob is stored once).
    const written = new Set<string>();
    for (const layer of layers) {
      if (written.has(layer.hex)) continue;
      written.add(layer.hex);
      await out.add({ name: blobPath(layer.hex), size: layer.size, mode: 0o644, mtime }, createReadStream(layer.file));
    }
    for (const blob of [configBlob, manifestBlob]) await out.add({ name: blobPath(sha256(blob)), size: blob.length, mode: 0o644, mtime }, blob);
    await out.add({ name: 'oci-layout', mode: 0o644, mtime }, jsonBlob({ imageLayoutVersion: '1.0.0' }));
    await out.add({ name: 'index.json', mode: 0o644, mtime }, index);
    await out.add({ name: 'manifest.json', mode: 0o644, mtime }, dockerManifest);
    await out.finish();
  } catch (error) {
    out.abort(error as Error);
    throw error;
  }
  return { configDigest: `sha256:${configHex}`, manifestDigest: `sha256:${manifestHex}`, layerDigests: layers.map((l) => `sha256:${l.hex}`) };
}
