import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { combinedPrefixes, DEFAULT_PREFIXES, type Prefix } from '../../../lib/artifacts/placeholder-prefixes.js';
import { collectPlaceholders, scanBytes, scanLine } from '../../../lib/artifacts/scan-placeholders.js';

const PREFIXES = combinedPrefixes(DEFAULT_PREFIXES);

/** What a line yields: `<full placeholder text>=<prefix><name>` per reading. */
const readings = (line: string, prefixes: readonly Prefix[] = PREFIXES) =>
  scanLine(line, prefixes).flatMap((ph) => ph.candidates.map((c) => `${line.slice(ph.start, ph.end)}=${c.prefix.text}${c.name}`));

describe('scanLine (upstream §8.5 scan rule)', () => {
  it.each<[string, string, string[]]>([
    ['a plain placeholder', 'port=[@port]', ['[@port]=@port']],
    [
      'each prefix kind',
      '[@a] [#b] [!c] [%d] [+e] [^conf/app.keystore]',
      ['[@a]=@a', '[#b]=#b', '[!c]=!c', '[%d]=%d', '[+e]=+e', '[^conf/app.keystore]=^conf/app.keystore'],
    ],
    ['several on one line, same name twice', 'url=http://[@host]:[@port]/[@host]', ['[@host]=@host', '[@port]=@port', '[@host]=@host']],
    ['nested brackets: the inner one', 'x=[[@port]]', ['[@port]=@port']],
    ['a name cut at the second prefix, the whole bracket replaced', 'x=[@a@b]', ['[@a@b]=@a']],
    ['a name with a space: not a placeholder', 'x=[@a b]', []],
    ['a prefix not right after the bracket', 'x=[x@port]', []],
    ['a bare name without prefix', 'x=[port]', []],
    ['a prefix and name without an opening bracket', '@port] and more', []],
    ['an empty name', 'x=[@] [@@]', []],
    ['text after the first closing bracket is ignored', 'x=[@a]b] [@c]', ['[@a]=@a', '[@c]=@c']],
    ['an unclosed bracket', 'x=[@a', []],
    ['a closing bracket before any opening one', 'a] b [@c]', ['[@c]=@c']],
    ['a dotted and slashed name', '[^conf/sub dir]', []],
    ['names keep their case', '[@DB_Host]', ['[@DB_Host]=@DB_Host']],
    ['non-ASCII names', 'x=[@名字]', ['[@名字]=@名字']],
    ['arrays in YAML are not placeholders', 'hosts: [a, b, c]', []],
  ])('%s', (_name, line, expected) => {
    expect(readings(line)).toEqual(expected);
  });

  it('gives one reading per prefix when prefixes overlap, in list order', () => {
    const overlapping: Prefix[] = [
      { text: '@', kind: 'plain' },
      { text: '@@', kind: 'double-rsa' },
    ];
    expect(readings('[@@pw]', overlapping)).toEqual(['[@@pw]=@@pw']);
    expect(readings('[@@pw@@x]', overlapping)).toEqual(['[@@pw@@x]=@@pw']);
    expect(readings('[@a@@b]', overlapping)).toEqual(['[@a@@b]=@a']);
  });

  it('stays linear on a long line with no closing bracket', () => {
    const line = '['.concat('x'.repeat(2_000_000));
    const started = Date.now();
    expect(scanLine(line, PREFIXES)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('scanBytes', () => {
  it('reports byte offsets and UTF-8 names', () => {
    const line = Buffer.from('é=[@名字] [!pw]\r\n', 'utf8');
    const found = scanBytes(line, PREFIXES);
    expect(found.map((p) => p.candidates[0]!.name)).toEqual(['名字', 'pw']);
    expect(line.subarray(found[0]!.start, found[0]!.end).toString('utf8')).toBe('[@名字]');
    expect(line.subarray(found[1]!.start, found[1]!.end).toString('utf8')).toBe('[!pw]');
  });

  it('finds nothing in a line without brackets', () => {
    expect(scanBytes(Buffer.from('plain text\n'), PREFIXES)).toEqual([]);
  });
});

describe('collectPlaceholders (getConfigFileKey)', () => {
  it('lists every reading with its 1-based line, duplicates included, across chunk boundaries', async () => {
    const text = 'a=[@x]\r\n\nb=[!Y] c=[@x]\nnone\n[^f/g]';
    const chunks = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    expect(await collectPlaceholders(Readable.from(chunks), PREFIXES)).toEqual([
      { line: '1', key: 'x', type: '@' },
      { line: '3', key: 'Y', type: '!' },
      { line: '3', key: 'x', type: '@' },
      { line: '5', key: 'f/g', type: '^' },
    ]);
  });
});
