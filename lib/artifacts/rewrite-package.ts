import type { Readable, Writable } from 'node:stream';
import { InputError } from '../errors.js';
import type { ArchiveFormat } from './package-name.js';
import type { Prefix } from './placeholder-prefixes.js';
import { openZip, readTar, type TarEntry } from './read-archive.js';
import { Substituter, type Resolver } from './replace-placeholders.js';
import { spool, type Spooled } from './spool.js';
import { createTarWriter, createZipWriter, type TarHeader } from './write-archive.js';

export interface RewriteRequest {
  /** The package's file name, for messages. */
  archive: string;
  format: ArchiveFormat;
  /** Normalised paths (confinePath) of the files to substitute in. */
  confFiles: readonly string[];
  prefixes: readonly Prefix[];
  /** Resolves one placeholder of `file`; may record whole-file replacements in `fileReplacements`. */
  resolve: (placeholder: Parameters<Resolver>[0], file: string, line: number) => string | undefined;
  /** Path in the package → URL whose content replaces (or adds) that file. */
  fileReplacements: ReadonlyMap<string, string>;
  openReplacement(url: string): Promise<{ body: Readable; size: number | undefined }>;
  /** Scratch directory for big conf files. */
  tmpDir: string;
  /** Runs after every conf file is substituted, before the archive is completed: may throw to abort. */
  beforeFinish?: () => void;
  signal?: AbortSignal | undefined;
}

/** A tar pass met a whole-file target before the conf file that names it: run again knowing all targets. */
export class SecondPassNeeded extends Error {
  override readonly name = 'SecondPassNeeded';
}

async function* substituted(body: AsyncIterable<Buffer>, engine: Substituter): AsyncGenerator<Buffer> {
  for await (const chunk of body) yield* engine.push(chunk);
  yield* engine.end();
}

function substitute(request: RewriteRequest, path: string, body: AsyncIterable<Buffer>): Promise<Spooled> {
  const engine = new Substituter(request.prefixes, (ph, line) => request.resolve(ph, path, line));
  return spool(substituted(body, engine), request.tmpDir);
}

const notExist = (request: RewriteRequest, path: string) => new InputError(`path:${path} is not exist in ${request.archive}`);

function confEntryProblem(path: string, type: string): InputError | undefined {
  if (type === 'directory') return new InputError(`path:${path} is dir`);
  if (type !== 'file') return new InputError(`path:${path} is a ${type === 'symlink' ? 'symbolic' : 'hard'} link, not a file: list the file it points to`);
  return undefined;
}

/** The header to copy an entry with: as read, minus pax records tar-stream writes itself from name and linkname. */
function copyHeader(entry: TarEntry): TarHeader {
  const { pax, ...header } = entry.header;
  const rest = pax ? Object.fromEntries(Object.entries(pax).filter(([k]) => k !== 'path' && k !== 'linkpath' && k !== 'size')) : {};
  return { ...header, pax: Object.keys(rest).length ? rest : null };
}

async function sized(request: RewriteRequest, url: string): Promise<{ size: number; body: AsyncIterable<Buffer>; dispose(): Promise<void> }> {
  const { body, size } = await request.openReplacement(url);
  if (size !== undefined) return { size, body, dispose: async () => undefined };
  const held = await spool(body, request.tmpDir);
  return { size: held.size, body: held.open(), dispose: () => held.dispose() };
}

/**
 * Copies a tar / tar.gz from `source` to `dest` in one streaming pass: conf files substituted, whole-file
 * targets replaced, every other entry copied with its header (mode, owner, mtime, links, empty dirs,
 * dotfiles) and bytes unchanged. Throws InputError for a refused entry or a missing conf file, and
 * SecondPassNeeded when a whole-file target came before the conf file naming it.
 */
export async function rewriteTar(source: Readable, dest: Writable, request: RewriteRequest): Promise<{ entries: number }> {
  const writer = createTarWriter(dest, { gzip: request.format === 'tgz', signal: request.signal });
  const wanted = new Set(request.confFiles);
  const found = new Set<string>();
  const written = new Set<string>();
  const replaced = new Set<string>();
  let entries = 0;
  try {
    for await (const { entry, body } of readTar(source, { gzip: request.format === 'tgz', archive: request.archive, signal: request.signal })) {
      entries++;
      written.add(entry.path);
      let held: Spooled | undefined;
      if (wanted.has(entry.path)) {
        const problem = confEntryProblem(entry.path, entry.type);
        if (problem) throw problem;
        found.add(entry.path);
        held = await substitute(request, entry.path, body);
      }
      try {
        const url = request.fileReplacements.get(entry.path);
        if (url !== undefined && entry.type === 'directory') throw new InputError(`Try to replace file fail,${entry.path} is dir`);
        if (url !== undefined) {
          const replacement = await sized(request, url);
          try {
            await writer.add({ ...copyHeader(entry), type: 'file', linkname: '', size: replacement.size, mtime: new Date() }, replacement.body);
          } finally {
            await replacement.dispose();
          }
          replaced.add(entry.path);
        } else if (held) {
          await writer.add({ ...copyHeader(entry), size: held.size }, held.open());
        } else {
          await writer.add(copyHeader(entry), entry.type === 'file' ? body : undefined);
        }
      } finally {
        await held?.dispose();
      }
    }
    for (const path of wanted) if (!found.has(path)) throw notExist(request, path);
    for (const [path, url] of request.fileReplacements) {
      if (replaced.has(path)) continue;
      if (written.has(path)) throw new SecondPassNeeded(`${path} came before the conf file that replaces it`);
      const replacement = await sized(request, url);
      try {
        await writer.add({ name: path, type: 'file', mode: 0o644, size: replacement.size, mtime: new Date() }, replacement.body);
      } finally {
        await replacement.dispose();
      }
    }
    request.beforeFinish?.();
    await writer.finish();
    return { entries };
  } catch (error) {
    writer.abort(error as Error);
    throw error;
  }
}

/**
 * Rewrites a zip held in a local file (zip needs random access) into `dest`: every entry checked first,
 * conf files substituted next (so whole-file targets are known before anything is written), then all
 * entries written in their original order with their modes, times and compression method.
 */
export async function rewriteZip(file: string, dest: Writable, request: RewriteRequest): Promise<{ entries: number }> {
  const zip = await openZip(file, request.archive);
  const spools = new Map<string, Spooled>();
  try {
    const byPath = new Map(zip.entries.map((e) => [e.path, e] as const));
    for (const path of request.confFiles) {
      const entry = byPath.get(path);
      if (!entry) throw notExist(request, path);
      const problem = confEntryProblem(path, entry.type);
      if (problem) throw problem;
    }
    for (const entry of zip.entries) {
      if (!request.confFiles.includes(entry.path)) continue;
      await spools.get(entry.path)?.dispose();
      spools.set(entry.path, await substitute(request, entry.path, await zip.open(entry)));
    }
    for (const path of request.fileReplacements.keys()) {
      if (byPath.get(path)?.type === 'directory') throw new InputError(`Try to replace file fail,${path} is dir`);
    }
    request.beforeFinish?.();
    const writer = createZipWriter(dest, { signal: request.signal });
    const openReplacement = (url: string) => async () => (await request.openReplacement(url)).body;
    try {
      for (const entry of zip.entries) {
        const spec = { name: entry.name, mode: entry.mode, mtime: entry.mtime, deflate: entry.deflated };
        const url = request.fileReplacements.get(entry.path);
        if (entry.type === 'directory') writer.add({ ...spec, type: 'directory' });
        else if (url !== undefined) writer.add({ ...spec, type: 'file', mtime: new Date(), deflate: true }, openReplacement(url));
        else if (entry.type === 'symlink') writer.add({ ...spec, type: 'symlink' }, Buffer.from(entry.linkname ?? '', 'utf8'));
        else {
          const held = spools.get(entry.path);
          writer.add({ ...spec, type: 'file' }, held ? async () => held.open() : () => zip.open(entry));
        }
      }
      for (const [path, url] of request.fileReplacements) {
        if (!byPath.has(path)) writer.add({ name: path, type: 'file', mode: 0o644, mtime: new Date() }, openReplacement(url));
      }
      await writer.finish();
    } catch (error) {
      writer.abort(error as Error);
      throw error;
    }
    return { entries: zip.entries.length };
  } finally {
    zip.close();
    await Promise.all([...spools.values()].map((s) => s.dispose()));
  }
}
