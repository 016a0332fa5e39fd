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
      return 'file';
    case 'directory':
    case 'symlink':
    case 'link':
      return type;
    default:
      // Devices, fifos, and every type flag tar-stream does not know (null: GNU sparse 'S', volume 'V',
      // multi-volume 'M'...), which other readers do interpret.
      return 'other';
  }
}

/** pax keys whose meaning tar-stream does not apply (sparse maps, other charsets): another reader would place other bytes or names. */
const UNSUPPORTED_PAX = /^(GNU\.sparse\.|hdrcharset$|SCHILY\.realsize$)/;

/**
 * tar-stream keeps a PAX global header to itself (it applies the last one, and only to entries that also
 * have a local pax header), where Python's tarfile merges every global header into all later entries: the
 * same bytes name different files. Such an archive is refused, as are pax records tar-stream would ignore.
 * The hook is on tar-stream 3.2's long-header decoder (pinned in package.json; a unit test fails if it moves).
 */
function refusingGlobalHeaders(extract: tar.Extract, archive: string): tar.Extract {
  const internal = extract as unknown as { _header: { type?: string } | null; _decodeLongHeader(buf: Buffer): void };
  if (typeof internal._decodeLongHeader !== 'function') throw new Error('tar-stream changed: _decodeLongHeader is gone (see read-archive.ts)');
  const decode = internal._decodeLongHeader.bind(extract);
  internal._decodeLongHeader = (buf: Buffer) => {
    const type = internal._header?.type;
    if (type === 'pax-global-header') {
      throw new InputError(
        `Failed to unpack file ${archive}: it has a PAX global header (readers disagree on what it applies to); re-pack it without one (e.g. GNU tar --format=gnu, or git archive with tar.umask and no global pax)`,
      );
    }
    if (type === 'pax-header') {
      for (const line of buf.toString('utf8').split('\n')) {
        const key = /^\d+ ([^=]+)=/.exec(line)?.[1];
        if (key && UNSUPPORTED_PAX.test(key))
          throw new InputError(
            `Failed to unpack file ${archive}: an entry has the pax record ${key}, which this reader does not apply (sparse or non-UTF-8 entries are refused)`,
          );
      }
    }
    decode(buf);
  };
  return extract;
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
  const extract = refusingGlobalHeaders(tar.extract(), options.archive);
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
      // An old-style directory: a regular-file flag and a trailing `/` (tar-stream 3.2 leaves it a file).
      const type = header.type === 'file' && header.name.endsWith('/') && !header.size ? 'directory' : tarType(header.type);
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
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Info-ZIP Unicode Path extra field: some readers take the name from it, others from the header. */
const UNICODE_PATH_FIELD = 0x7075;

/**
 * The type of a zip entry from its name and the unix mode in the high half of the external attributes.
 * Those bits are read whatever the "made by" field says: salt's archive.unzip (Python zipfile) makes a
 * symbolic link of an entry with S_IFLNK even when "made by" claims MS-DOS, so a guard that trusted the
 * field would take a link for a file. A type the bits and the name disagree on is refused.
 */
function zipType(name: string, unixMode: number, fail: (why: string) => never): EntryType {
  const format = unixMode & S_IFMT;
  const slash = name.endsWith('/');
  if (format === S_IFLNK) return slash ? fail('is named like a directory but its attributes make it a symbolic link') : 'symlink';
  if (format === S_IFDIR || (format === 0 && slash)) return 'directory';
  if (slash) return fail('is named like a directory but its attributes make it a file');
  if (format === 0 || format === S_IFREG) return 'file';
  return 'other';
}

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
      // The header's own name only: a Unicode Path extra field is refused below, not preferred.
      const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, fileNameRaw, [], false);
      const fail = (why: string): never => {
        throw new InputError(`Failed to unpack file ${archive}: entry ${JSON.stringify(name).slice(1, -1)} ${why}`);
      };
      if (raw.extraFields.some((f) => f.id === UNICODE_PATH_FIELD))
        fail('has a Unicode Path extra field (readers disagree on which name counts); re-pack it with UTF-8 names');
      const unixMode = raw.externalFileAttributes >>> 16;
      const type = zipType(name, unixMode, fail);
      if (type !== 'directory' && !raw.canDecodeFileData()) fail('is encrypted or uses an unsupported compression method');
      const linkname = type === 'symlink' ? (await readAll(await zip.openReadStreamPromise(raw))).toString('utf8') : undefined;
      entries.push({
        name,
        path: guard.check({ name, type, linkname }),
        type,
        mode: unixMode & 0o7777 || (type === 'directory' ? 0o755 : 0o644),
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
