import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { InputError, PluginError } from '../errors.js';
import { EntryGuard, type EntryType } from './entry-guard.js';

/** One entry of a package, format-neutral. */
export interface ArchiveEntry {
  /** The name as stored in the archive. */
  name: string;
  /** The normalised path under the root ('' for the root itself). */
  path: string;
  type: EntryType;
  /** Permission bits (0o7777). */
  mode: number;
  size: number;
  mtime: Date;
  linkname?: string | undefined;
}

export interface TarEntry extends ArchiveEntry {
  /** The header as read, for a faithful copy into another tar (uid, gid, names, pax records). */
  header: tar.Header & { pax?: Record<string, string> | null };
}

export interface ZipEntry extends ArchiveEntry {
  raw: yauzl.Entry;
  /** Stored deflated (the copy keeps stored entries stored). */
  deflated: boolean;
}

const ZLIB_CHUNK = 64 * 1024;

/** `Failed to unpack file <name>: <reason>` for a corrupt or unsupported package; our own errors pass as they are. */
export function unpackError(archive: string, error: unknown): PluginError {
  if (error instanceof PluginError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new InputError(`Failed to unpack file ${archive}: ${reason}`, { cause: error });
}

function tarType(type: tar.Header['type'] | undefined | null): EntryType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
    case undefined:
    case null:
      return 'file';
    case 'directory':
    case 'symlink':
    case 'link':
      return type;
    default:
      return 'other';
  }
}

/**
 * Streams the entries of a tar or tar.gz, each checked by an EntryGuard before it is handed out. The
 * consumer reads (or ignores) each body before asking for the next entry; an unread body is drained.
 * Throws InputError for an escaping entry or a corrupt archive.
 */
export async function* readTar(
  source: Readable,
  options: { gzip: boolean; archive: string; signal?: AbortSignal },
): AsyncGenerator<{ entry: TarEntry; body: AsyncIterable<Buffer> }> {
  const extract = tar.extract();
  const guard = new EntryGuard(options.archive);
  const stages: NodeJS.ReadWriteStream[] = options.gzip ? [createGunzip({ chunkSize: ZLIB_CHUNK })] : [];
  const feeding = pipeline([source, ...stages, extract as unknown as NodeJS.WritableStream], { signal: options.signal });
  let feedError: unknown;
  feeding.catch((error: unknown) => {
    feedError = error;
  });
  try {
    for await (const body of extract) {
      const header = body.header as TarEntry['header'];
      const type = tarType(header.type);
      const entry: TarEntry = {
        name: header.name,
        path: guard.check({ name: header.name, type, linkname: header.linkname }),
        type,
        mode: (header.mode ?? 0) & 0o7777,
        size: header.size ?? 0,
        mtime: header.mtime ?? new Date(0),
        linkname: header.linkname ?? undefined,
        header,
      };
      const drained = new Promise((resolve) => {
        body.once('end', () => resolve(undefined));
        body.once('close', () => resolve(undefined));
      });
      yield { entry, body: body as AsyncIterable<Buffer> };
      body.resume();
      await drained;
    }
    await feeding;
  } catch (error) {
    throw unpackError(options.archive, feedError ?? error);
  } finally {
    if (!extract.destroyed) extract.destroy();
    source.destroy();
  }
}

/** A zip package opened from a local file: its entries (all checked up front) and their contents. */
export interface ZipReader {
  entries: ZipEntry[];
  open(entry: ZipEntry): Promise<Readable>;
  close(): void;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;

/**
 * Opens a zip (it needs random access, so a local file) and checks every entry with an EntryGuard before
 * any content is used: symbolic links (unix mode in the external attributes) have their target read and
 * checked too. Throws InputError for a corrupt zip or an escaping entry.
 */
export async function openZip(file: string, archive: string): Promise<ZipReader> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: false, strictFileNames: false });
  } catch (error) {
    throw unpackError(archive, error);
  }
  const readAll = async (stream: Readable) => {
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };
  try {
    const guard = new EntryGuard(archive);
    const entries: ZipEntry[] = [];
    for await (const raw of zip.eachEntry()) {
      const fileNameRaw = raw.fileName as unknown as Buffer;
      const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, fileNameRaw, raw.extraFields, false);
      const unixMode = raw.versionMadeBy >> 8 === MADE_BY_UNIX ? raw.externalFileAttributes >>> 16 : 0;
      const isDir = name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR;
      const isLink = !isDir && (unixMode & S_IFMT) === S_IFLNK;
      if (!isDir && !raw.canDecodeFileData()) throw new InputError(`Failed to unpack file ${archive}: entry ${name} is encrypted or uses an unsupported compression method`);
      const linkname = isLink ? (await readAll(await zip.openReadStreamPromise(raw))).toString('utf8') : undefined;
      const type: EntryType = isDir ? 'directory' : isLink ? 'symlink' : 'file';
      entries.push({
        name,
        path: guard.check({ name, type, linkname }),
        type,
        mode: unixMode & 0o7777 || (isDir ? 0o755 : 0o644),
        size: raw.uncompressedSize,
        mtime: raw.getLastModDate(),
        linkname,
        raw,
        deflated: raw.compressionMethod === 8,
      });
    }
    return {
      entries,
      open: async (entry) => {
        try {
          return await zip.openReadStreamPromise(entry.raw);
        } catch (error) {
          throw unpackError(archive, error);
        }
      },
      close: () => zip.close(),
    };
  } catch (error) {
    zip.close();
    throw unpackError(archive, error);
  }
}
