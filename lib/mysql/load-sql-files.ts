import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { archiveType } from '../artifacts/package-name.js';
import { baseName, parseEndpoint, type ObjectRef } from '../artifacts/parse-endpoint.js';
import { openZip, readTar } from '../artifacts/read-archive.js';
import { InputError } from '../errors.js';
import type { SqlFileLoader } from './mysql-script-operations.js';
import type { SqlFile } from './run-sql-files.js';
import { matchesSqlFile, selectSqlFiles } from './select-sql-files.js';

/** Scripts are held in memory to be split; more than this in one call is refused, not a Lambda out of memory. */
export const MAX_SQL_BYTES = 64 * 1024 * 1024;

class Budget {
  private used = 0;
  constructor(private readonly what: string) {}
  take(bytes: number) {
    this.used += bytes;
    if (this.used > MAX_SQL_BYTES) throw new InputError(`${this.what} hold more than ${MAX_SQL_BYTES / 1024 / 1024} MiB of SQL`);
  }
}

async function readText(stream: AsyncIterable<Buffer | string>, budget: Budget): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    budget.take(buffer.length);
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

async function entriesOfTar(body: Readable, archive: string, gzip: boolean, wanted: (path: string) => boolean, budget: Budget, signal: AbortSignal) {
  const paths: string[] = [];
  const texts = new Map<string, string>();
  for await (const { entry, body: content } of readTar(body, { gzip, archive, signal })) {
    if (entry.type !== 'file') continue;
    paths.push(entry.path);
    if (wanted(entry.path)) texts.set(entry.path, await readText(content, budget));
  }
  return { paths, texts };
}

async function entriesOfZip(body: Readable, archive: string, wanted: (path: string) => boolean, budget: Budget, signal: AbortSignal) {
  // A zip's directory is at its end: yauzl needs random access, so the package goes to a private temp file.
  const dir = await mkdtemp(join(tmpdir(), 'sql-zip-'));
  try {
    const file = join(dir, 'package.zip');
    await pipeline(body, createWriteStream(file, { mode: 0o600 }), { signal });
    const zip = await openZip(file, archive);
    try {
      const paths: string[] = [];
      const texts = new Map<string, string>();
      for (const entry of zip.entries) {
        if (entry.type !== 'file') continue;
        paths.push(entry.path);
        if (wanted(entry.path)) texts.set(entry.path, await readText(await zip.open(entry), budget));
      }
      return { paths, texts };
    } finally {
      zip.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Loads the scripts of mysql-script/run (upstream §10.1 step 4): when the first endpoint is a `.sql` file,
 * every endpoint is a script, run in the given order; otherwise the one endpoint is a zip, tar, tar.gz or
 * tgz and `sql_files` names (or globs) the scripts inside it. Archives are read in-process with the
 * zip-slip guard. Throws InputError with upstream's texts, ArtifactNotFoundError for a missing object.
 */
export function sqlFileLoader(store: () => ArtifactStore): SqlFileLoader {
  return async (endpoints, sqlFiles, signal) => {
    if (endpoints.length === 0) throw new InputError('Parameter endpoint can not empty.');
    const refs: ObjectRef[] = endpoints.map(parseEndpoint);
    const first = baseName(refs[0]!);
    if (first.toLowerCase().endsWith('.sql')) {
      const budget = new Budget('The endpoint files');
      const files: SqlFile[] = [];
      for (const ref of refs) {
        const { body } = await store().get(ref, { signal });
        files.push({ name: baseName(ref), text: await readText(body, budget) });
      }
      return files;
    }
    if (refs.length !== 1) {
      throw new InputError('Parameter endpoint validation failed: endpoint must be one when suffix not like *.sql');
    }
    const type = archiveType(first);
    if (!type) throw new InputError(`File ${first} is illegal to be recognized as a compressed file type`);
    if (sqlFiles.length === 0) throw new InputError('Parameter sql_files can not empty.');
    const wanted = (path: string) => sqlFiles.some((pattern) => matchesSqlFile(pattern, path));
    const budget = new Budget(`The sql_files of ${first}`);
    const { body } = await store().get(refs[0]!, { signal });
    const { paths, texts } =
      type.format === 'zip'
        ? await entriesOfZip(body, first, wanted, budget, signal)
        : await entriesOfTar(body, first, type.format === 'tgz', wanted, budget, signal);
    return selectSqlFiles(paths, sqlFiles).map((path) => ({ name: path, text: texts.get(path)! }));
  };
}
