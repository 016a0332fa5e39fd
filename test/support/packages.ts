/** Test packages made by code: a directory tree, packed by GNU tar or yazl, read back by tar or Python. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import tar from 'tar-stream';
import yazl from 'yazl';
import { gzipSync } from 'node:zlib';

export interface TreeEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink';
  content?: string | Buffer;
  mode?: number;
  target?: string;
}

/** A package with every kind of entry the copy must keep: modes, CRLF, no final newline, dotfiles, empty dir, symlink, binary. */
export function sampleTree(binary: Buffer = Buffer.alloc(70_000, 7)): TreeEntry[] {
  return [
    { path: 'app', type: 'dir', mode: 0o755 },
    { path: 'app/conf', type: 'dir', mode: 0o750 },
    { path: 'app/conf/app.properties', content: 'port=[@port]\r\nhost=[#DB_HOST]\r\nmissing=[@nope]\r\nlist=[[@port]]\r\n', mode: 0o640 },
    { path: 'app/conf/plain.yml', content: 'a: [1, 2]\nb: x', mode: 0o644 },
    { path: 'app/bin', type: 'dir', mode: 0o755 },
    { path: 'app/bin/start.sh', content: '#!/bin/sh\nexec java -Dport=[@port] -jar app.jar\n', mode: 0o755 },
    { path: 'app/empty', type: 'dir', mode: 0o700 },
    { path: 'app/.env', content: 'PORT=[@port]\n', mode: 0o600 },
    { path: 'app/lib/data.bin', content: binary, mode: 0o644 },
    { path: 'app/current', type: 'symlink', target: 'conf/plain.yml' },
  ];
}

/** Creates the tree under `dir` with its modes (dirs get theirs after their content). */
export function writeTree(dir: string, entries: TreeEntry[]): void {
  const dirs: TreeEntry[] = [];
  for (const e of entries) {
    const path = join(dir, e.path);
    mkdirSync(dirname(path), { recursive: true });
    if (e.type === 'dir') {
      mkdirSync(path, { recursive: true });
      dirs.push(e);
    } else if (e.type === 'symlink') symlinkSync(e.target!, path);
    else {
      writeFileSync(path, e.content ?? '');
      chmodSync(path, e.mode ?? 0o644);
    }
  }
  for (const e of dirs.reverse()) chmodSync(join(dir, e.path), e.mode ?? 0o755);
}

/** Packs `dir` with GNU tar (`./`-prefixed names, as `tar czf x.tgz -C dir .` makes them). */
export function tarDir(dir: string, out: string, gzip: boolean): Buffer {
  execFileSync('tar', [gzip ? '-czf' : '-cf', out, '-C', dir, '.']);
  return readFileSync(out);
}

/** Packs the tree with yazl (unix modes in the external attributes, symlinks as S_IFLNK entries). */
export async function zipTree(entries: TreeEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.type === 'dir') zip.addEmptyDirectory(e.path, { mode: 0o040000 | (e.mode ?? 0o755) });
    else if (e.type === 'symlink') zip.addBuffer(Buffer.from(e.target!), e.path, { mode: 0o120777, compress: false });
    else zip.addBuffer(Buffer.from(e.content ?? ''), e.path, { mode: 0o100000 | (e.mode ?? 0o644) });
  }
  zip.end();
  const parts: Buffer[] = [];
  for await (const chunk of zip.outputStream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** A tar made entry by entry with tar-stream: for names and links GNU tar would refuse to write. */
export async function rawTar(
  entries: Array<{ name: string; type?: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string; content?: string }>,
  gzip = true,
): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname ?? '', mode: 0o644 }, Buffer.from(e.content ?? ''));
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  const data = Buffer.concat(parts);
  return gzip ? gzipSync(data) : data;
}

/** A zip with one entry named `name` (any name, `..` included), by renaming a same-length placeholder in the bytes. */
export async function zipWithName(name: string, content = 'x'): Promise<Buffer> {
  const placeholder = 'Q'.repeat(Buffer.byteLength(name));
  const zip = await zipTree([
    { path: 'ok.txt', content: 'fine' },
    { path: placeholder, content },
  ]);
  const from = Buffer.from(placeholder);
  const to = Buffer.from(name);
  let at = zip.indexOf(from);
  while (at !== -1) {
    to.copy(zip, at);
    at = zip.indexOf(from, at + 1);
  }
  return zip;
}

export interface Snapshot {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  sha256?: string;
  target?: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Every entry under `dir` (lstat: links are not followed), keyed by relative path. */
export function snapshotDir(dir: string, prefix = ''): Record<string, Snapshot> {
  const out: Record<string, Snapshot> = {};
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(join(dir, rel));
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) out[rel] = { type: 'symlink', mode: 0, target: readlinkSync(join(dir, rel)) };
    else if (st.isDirectory()) {
      out[rel] = { type: 'dir', mode };
      Object.assign(out, snapshotDir(dir, rel));
    } else out[rel] = { type: 'file', mode, sha256: sha256(readFileSync(join(dir, rel))) };
  }
  return out;
}

/** Extracts a tar / tar.gz with GNU tar (an implementation independent of ours), modes kept. */
export function untar(file: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['-xpf', file, '-C', dest]);
}

/** Lists a zip with Python's zipfile (independent of yauzl): name → type, unix mode, sha256 or link target. */
export function listZip(file: string): Record<string, Snapshot> {
  const script = `
import hashlib, json, stat, sys, zipfile
out = {}
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        mode = i.external_attr >> 16
        data = b'' if i.is_dir() else z.read(i)
        name = i.filename.rstrip('/')
        if i.is_dir() or stat.S_ISDIR(mode):
            out[name] = {'type': 'dir', 'mode': mode & 0o7777}
        elif stat.S_ISLNK(mode):
            out[name] = {'type': 'symlink', 'mode': 0, 'target': data.decode()}
        else:
            out[name] = {'type': 'file', 'mode': mode & 0o7777, 'sha256': hashlib.sha256(data).hexdigest()}
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file]).toString()) as Record<string, Snapshot>;
}
