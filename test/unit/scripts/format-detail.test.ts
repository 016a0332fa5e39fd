import { describe, expect, it } from '@jest/globals';
import { capDetail, formatDetail } from '../../../lib/scripts/format-detail.js';
import { BoundedOutput } from '../../../lib/ssh/bounded-output.js';

describe('formatDetail', () => {
  it.each([
    [[], ''],
    [['only'], 'only'],
    [['a', 'b'], 'script 1 result: a | script 2 result: b'],
  ])('shapes %j as %j', (outputs, detail) => {
    expect(formatDetail(outputs, 1000)).toBe(detail);
  });

  it('caps a long detail keeping its beginning and end, with a note', () => {
    const text = 'B'.repeat(5000) + 'E'.repeat(5000);
    const capped = capDetail(text, 2000);
    expect(capped.length).toBeLessThanOrEqual(2000);
    expect(capped.startsWith('BBB')).toBe(true);
    expect(capped.endsWith('EEE')).toBe(true);
    expect(capped).toMatch(/characters trimmed/);
    expect(capDetail('short', 2000)).toBe('short');
  });
});

describe('BoundedOutput', () => {
  it('keeps everything under the cap and head plus tail above it', () => {
    const small = new BoundedOutput(100);
    small.push('abc');
    small.push('def');
    expect(small.toString()).toBe('abcdef');
    const big = new BoundedOutput(10);
    for (let i = 0; i < 100; i++) big.push(String(i % 10));
    expect(big.toString()).toBe('01234\n[... 90 characters trimmed ...]\n56789');
  });
});
