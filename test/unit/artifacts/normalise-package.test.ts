import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPackage } from '../../../lib/artifacts/normalise-package.js';
import type { ArchiveFormat } from '../../../lib/artifacts/package-name.js';
import type { ObjectRef } from '../../../lib/artifacts/parse-endpoint.js';
import { InputError } from '../../../lib/errors.js';
import { paxRecords, rawTarBytes, rawZipBytes, type RawTarEntry, type RawZipEntry } from '../../support/crafted-archives.js';
import { MemoryStore } from './memory-store.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const ref = (key: string): ObjectRef => ({ bucket: 'b', key, url: `http://s3/b/${key}` });
const OUT = ref('.saltstack-unpack/out.tar.gz');

interface Member {
  name: string;
  type: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
}

/** What Python's tarfile (the reader salt's archive.extracted uses on the host) sees in an archive. */
function pythonMembers(data: Buffer): Member[] {
  const dir = mkdtempSync(join(tmpdir(), 'pytar-'));
  try {
    writeFileSync(join(dir, 'a'), data);
    const script = [
      'import json, sys, tarfile',
      'with tarfile.open(sys.argv[1]) as t:',
      '    print(json.dumps([dict(name=m.name, type=m.type.decode("latin1"), linkname=m.linkname, mode=m.mode, uid=m.uid, gid=m.gid) for m in t.getmembers()]))',
    ].join('\n');
    return JSON.parse(execFileSync('python3', ['-c', script, join(dir, 'a')], { encoding: 'utf8' })) as Member[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function normalise(data: Buffer, format: ArchiveFormat) {
  const store = new MemoryStore();
  store.set('b', 'pkg', data);
  const facts = await readPackage(store, ref('pkg'), { format, archive: 'pkg', normaliseTo: OUT });
  return { facts, store, out: store.read('b', OUT.key)! };
}

async function refusal(data: Buffer, format: ArchiveFormat): Promise<{ message: string; store: MemoryStore }> {
  const store = new MemoryStore();
  store.set('b', 'pkg', data);
  const error = await readPackage(store, ref('pkg'), { format, archive: 'pkg', normaliseTo: OUT }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  return { message: (error as Error).message, store };
}

const file = (name: string, body = 'x', more: Partial<RawTarEntry> = {}): RawTarEntry => ({ name, body, ...more });

describe('readPackage refuses archives two readers could read differently, naming why', () => {
  it.each<[string, RawTarEntry[], string]>([
    ['a PAX global header', [{ name: 'pax_global_header', flag: 'g', body: paxRecords({ path: '../canary/x' }) }, file('ok.txt')], 'has a PAX global header'],
    [
      'a PAX global header after entries',
      [file('a.txt'), { name: 'g', flag: 'g', body: paxRecords({ comment: 'x' }) }, file('ok.txt')],
      'has a PAX global header',
    ],
    [
      'a sparse pax record',
      [{ name: 'x', flag: 'x', body: paxRecords({ 'GNU.sparse.major': '1', 'GNU.sparse.name': 'evil' }) }, file('ok.txt')],
      'pax record GNU.sparse.major',
    ],
    ['a pax charset record', [{ name: 'x', flag: 'x', body: paxRecords({ hdrcharset: 'BINARY' }) }, file('ok.txt')], 'pax record hdrcharset'],
    ['a GNU sparse entry', [file('s', 'x', { flag: 'S', magic: 'gnu' })], 'entry s is a device file, a fifo or an entry type this reader does not support'],
    ['a character device', [file('dev', '', { flag: '3' })], 'entry dev is a device file'],
    ['a fifo', [file('fifo', '', { flag: '6' })], 'entry fifo is a device file'],
    ['a hard link inside the root', [file('a.txt'), { name: 'b.txt', flag: '1', linkname: 'a.txt' }], 'entry b.txt is a hard link (to a.txt)'],
    ['a hard link to a canary outside', [{ name: 'b.txt', flag: '1', linkname: '../canary/f' }], 'entry b.txt is a hard link'],
    ['a duplicate file', [file('a.txt', 'one'), file('./a.txt', 'two')], 'entry ./a.txt appears twice'],
    ['a file then a symlink of the same name', [file('a'), { name: 'a', flag: '2', linkname: 'b' }], 'entry a appears twice'],
    ['an escaping ustar prefix', [file('x', 'x', { prefix: '../../canary' })], 'entry ../../canary/x escapes the package root'],
    [
      'an absolute pax path',
      [{ name: 'x', flag: 'x', body: paxRecords({ path: '/tmp/canary/x' }) }, file('ok.txt')],
      'entry /tmp/canary/x has an absolute path',
    ],
    ['an escaping pax path', [{ name: 'x', flag: 'x', body: paxRecords({ path: 'a/../../canary/x' }) }, file('ok.txt')], 'escapes the package root'],
    [
      'an escaping GNU long name',
      [{ name: '././@LongLink', flag: 'L', body: '../canary/x\0', magic: 'gnu' }, file('ok.txt', 'x', { magic: 'gnu' })],
      'entry ../canary/x escapes',
    ],
    ['an absolute symlink', [{ name: 'l', flag: '2', linkname: '/tmp/canary' }], 'entry l is a symbolic link pointing outside the package root (/tmp/canary)'],
    [
      'an escaping pax linkpath',
      [
        { name: 'x', flag: 'x', body: paxRecords({ linkpath: '../../canary' }) },
        { name: 'l', flag: '2', linkname: 'ok' },
      ],
      'entry l is a symbolic link pointing outside the package root (../../canary)',
    ],
    [
      'an escaping GNU long link name',
      [
        { name: '././@LongLink', flag: 'K', body: '../canary\0', magic: 'gnu' },
        { name: 'l', flag: '2', linkname: 'ok', magic: 'gnu' },
      ],
      'entry l is a symbolic link pointing outside',
    ],
    ['a write through an archive symlink', [{ name: 'l', flag: '2', linkname: 'sub' }, file('l/x')], 'entry l/x goes through the symbolic link l'],
    ['a newline in a name', [file('a\nb')], 'has a control character in its name'],
  ])('tar: %s', async (_what, entries, message) => {
    const { message: got, store } = await refusal(rawTarBytes(entries), 'tgz');
    expect(got).toMatch(/^Failed to unpack file pkg: /);
    expect(got).toContain(message);
    // Nothing half-written is left where hosts would fetch it.
    expect(store.read('b', OUT.key)).toBeUndefined();
  });

  it.each<[string, RawZipEntry[], string]>([
    [
      'a link made by MS-DOS (S_IFLNK bits in the external attributes) pointing out',
      [{ name: 'l', body: '/tmp/canary', madeBy: 0, unixMode: S_IFLNK | 0o777 }],
      'entry l is a symbolic link pointing outside the package root (/tmp/canary)',
    ],
    ['a unix link pointing out', [{ name: 'l', body: '../canary', madeBy: 3, unixMode: S_IFLNK | 0o777 }], 'entry l is a symbolic link pointing outside'],
    [
      'a write through a link made by MS-DOS',
      [
        { name: 'l', body: 'sub', madeBy: 0, unixMode: S_IFLNK | 0o777 },
        { name: 'l/x', body: 'x' },
      ],
      'entry l/x goes through the symbolic link l',
    ],
    ['a Unicode Path extra field', [{ name: 'ok.txt', unicodePath: true }], 'entry ok.txt has a Unicode Path extra field'],
    [
      'a directory name with file attributes',
      [{ name: 'd/', madeBy: 3, unixMode: S_IFREG | 0o644 }],
      'entry d/ is named like a directory but its attributes make it a file',
    ],
    ['a character device', [{ name: 'dev', madeBy: 3, unixMode: S_IFCHR | 0o644 }], 'entry dev is a device file'],
    [
      'a duplicate name',
      [
        { name: 'a.txt', body: '1' },
        { name: 'a.txt', body: '2' },
      ],
      'entry a.txt appears twice',
    ],
    ['an absolute name', [{ name: 'Xtmp/canary/x', rawName: '/tmp/canary/x' }], 'entry /tmp/canary/x has an absolute path'],
    ['a .. name', [{ name: 'a/xx/canary/x', rawName: '../../canar/x' }], 'entry ../../canar/x escapes the package root'],
    ['a name starting with a backslash', [{ name: 'Xtmp/canary/x', rawName: '\\tmp/canary/x' }], 'has an absolute path'],
  ])('zip: %s', async (_what, entries, message) => {
    const { message: got, store } = await refusal(await rawZipBytes(entries), 'zip');
    expect(got).toContain(message);
    expect(store.read('b', OUT.key)).toBeUndefined();
  });
});

describe('readPackage writes what hosts unpack: exactly the entries it judged, as Python tarfile reads them', () => {
  it('hands Python the name the guard judged when the two readers disagree on the source (GNU header with a prefix field)', async () => {
    // tar-stream ignores the prefix field of a GNU header; Python's tarfile prepends it. Unpacking the
    // source would put the file at ../../canary/ok.txt; the normalised archive can only say ok.txt.
    const source = rawTarBytes([file('ok.txt', 'payload', { magic: 'gnu', prefix: '../../canary' })]);
    expect(pythonMembers(source).map((m) => m.name)).toEqual(['../../canary/ok.txt']);
    const { facts, out } = await normalise(source, 'tgz');
    expect(facts.topLevel).toEqual(['ok.txt']);
    expect(pythonMembers(out).map((m) => m.name)).toEqual(['ok.txt']);
  });

  it('keeps files, directories and inside symlinks; drops setuid/setgid/sticky bits and the owners', async () => {
    const source = rawTarBytes([
      { name: 'app/', flag: '5', mode: 0o1775 },
      file('app/bin/run.sh', '#!/bin/sh\n', { mode: 0o4755 }),
      { name: 'app/current', flag: '2', linkname: 'bin' },
      { name: 'old-dir/', flag: '\0' },
      { name: 'x', flag: 'x', body: paxRecords({ path: `deep/${'n'.repeat(150)}/f`, mtime: '1700000000.5' }) },
      file('ignored-by-pax', 'long'),
    ]);
    const { facts, out } = await normalise(source, 'tgz');
    expect(facts).toMatchObject({ topLevel: ['app', 'deep', 'old-dir'], entries: 5 });
    expect(facts.normalised).toMatchObject({ ref: OUT, size: out.length });
    expect(pythonMembers(out)).toEqual([
      { name: 'app', type: '5', linkname: '', mode: 0o775, uid: 0, gid: 0 },
      { name: 'app/bin/run.sh', type: '0', linkname: '', mode: 0o755, uid: 0, gid: 0 },
      { name: 'app/current', type: '2', linkname: 'bin', mode: 0o777, uid: 0, gid: 0 },
      { name: 'old-dir', type: '5', linkname: '', mode: 0o644, uid: 0, gid: 0 },
      { name: `deep/${'n'.repeat(150)}/f`, type: '0', linkname: '', mode: 0o644, uid: 0, gid: 0 },
    ]);
  });

  it('turns a zip into a tar, a link made by MS-DOS that stays inside kept as a link', async () => {
    const source = await rawZipBytes([
      { name: 'conf/', madeBy: 3, unixMode: S_IFDIR | 0o750 },
      { name: 'conf/a.properties', body: 'k=v\n', madeBy: 3, unixMode: S_IFREG | 0o640 },
      { name: 'a.lnk', body: 'conf/a.properties', madeBy: 0, unixMode: S_IFLNK | 0o777 },
      { name: 'plain.txt', body: 'p', madeBy: 0 },
    ]);
    const { facts, out } = await normalise(source, 'zip');
    expect(facts.topLevel).toEqual(['a.lnk', 'conf', 'plain.txt']);
    expect(pythonMembers(out).map((m) => [m.name, m.type, m.linkname, m.mode])).toEqual([
      ['conf', '5', '', 0o750],
      ['conf/a.properties', '0', '', 0o640],
      ['a.lnk', '2', 'conf/a.properties', 0o777],
      ['plain.txt', '0', '', 0o664], // yazl's default mode bits, read whatever "made by" says
    ]);
  });

  it('writes no normalised archive for a plain file', async () => {
    const store = new MemoryStore();
    store.set('b', 'f.bin', Buffer.from('data'));
    const facts = await readPackage(store, ref('f.bin'), { archive: 'f.bin', normaliseTo: OUT });
    expect(facts.normalised).toBeUndefined();
    expect(store.read('b', OUT.key)).toBeUndefined();
  });
});
