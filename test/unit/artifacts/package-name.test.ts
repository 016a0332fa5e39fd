import { describe, expect, it } from '@jest/globals';
import { archiveType, rand4, repackedName, timestamp } from '../../../lib/artifacts/package-name.js';

const MD5 = '0123456789abcdef0123456789abcdef';
const NOW = new Date(2025, 4, 23, 15, 9, 58);

describe('archiveType', () => {
  it.each<[string, ReturnType<typeof archiveType>]>([
    ['app.zip', { format: 'zip', ext: '.zip' }],
    ['app.ZIP', { format: 'zip', ext: '.ZIP' }],
    ['app-1.0.tar.gz', { format: 'tgz', ext: '.tar.gz' }],
    ['app.tgz', { format: 'tgz', ext: '.tgz' }],
    ['app.tar', { format: 'tar', ext: '.tar' }],
    ['app.gz', undefined],
    ['app.rar', undefined],
    ['.zip', undefined],
    ['zip', undefined],
  ])('%s', (name, expected) => {
    expect(archiveType(name)).toEqual(expected);
  });
});

describe('repackedName (upstream §8.7, without stacking)', () => {
  it.each<[string, string, string]>([
    ['a plain name', 'app.tgz', `${MD5}_app_20250523150958_k3x9.tgz`],
    ['the upstream example', '775c3b239d8a76b1914377deb346a8a1_edp-core-app_v2.6.tgz', `${MD5}_edp-core-app_v2.6_20250523150958_k3x9.tgz`],
    ['an already re-packed name keeps one stamp', `ffffffffffffffffffffffffffffffff_app_20240101000000_ab12.tar.gz`, `${MD5}_app_20250523150958_k3x9.tar.gz`],
    ['dots in the name', 'my.app-1.2.3.zip', `${MD5}_my.app-1.2.3_20250523150958_k3x9.zip`],
    ['a 32-char non-hex first segment is kept', 'abcdefghijklmnopqrstuvwxyz012345_x.zip', `${MD5}_abcdefghijklmnopqrstuvwxyz012345_x_20250523150958_k3x9.zip`],
    ['a stamp-like part not at the end is kept', 'app_20240101000000_ab12_extra.zip', `${MD5}_app_20240101000000_ab12_extra_20250523150958_k3x9.zip`],
    ['the suffix keeps its case', 'App.ZIP', `${MD5}_App_20250523150958_k3x9.ZIP`],
  ])('%s', (_name, original, expected) => {
    expect(repackedName(original, { md5: MD5, now: NOW, rand: 'k3x9' })).toBe(expected);
  });

  it('re-processing its own output gives the same shape again', () => {
    const once = repackedName('app.tgz', { md5: MD5, now: NOW, rand: 'aaaa' });
    const twice = repackedName(once, { md5: 'f'.repeat(32), now: NOW, rand: 'bbbb' });
    expect(twice).toBe(`${'f'.repeat(32)}_app_20250523150958_bbbb.tgz`);
  });

  it('refuses a name without archive suffix', () => {
    expect(() => repackedName('app.txt', { md5: MD5, now: NOW, rand: 'k3x9' })).toThrow('app.txt has no archive suffix');
  });

  it('formats local time as YYYYMMDDhhmmss', () => {
    expect(timestamp(new Date(2024, 0, 2, 3, 4, 5))).toBe('20240102030405');
  });

  it('draws four characters of [0-9a-z], not always the same', () => {
    const draws = new Set(Array.from({ length: 50 }, () => rand4()));
    for (const d of draws) expect(d).toMatch(/^[0-9a-z]{4}$/);
    expect(draws.size).toBeGreaterThan(40);
  });
});
