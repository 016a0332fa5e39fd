import { describe, expect, it } from '@jest/globals';
import { randomPassword } from '../../../lib/crypto/random-password.js';

describe('randomPassword', () => {
  const samples = Array.from({ length: 500 }, () => randomPassword());

  it('is 16 characters of letters, digits and _ by default', () => {
    for (const p of samples) expect(p).toMatch(/^[A-Za-z0-9_]{16}$/);
  });

  it('always has two upper-case letters, two lower-case letters, two digits and an underscore', () => {
    for (const p of samples) {
      expect(p.replace(/[^A-Z]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(p.replace(/[^a-z]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(p.replace(/[^0-9]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(p).toContain('_');
    }
  });

  it('does not repeat and does not keep the classes in fixed places', () => {
    expect(new Set(samples).size).toBe(samples.length);
    expect(new Set(samples.map((p) => p[0])).size).toBeGreaterThan(20);
  });

  it('honours a length and refuses a short one', () => {
    expect(randomPassword(32)).toHaveLength(32);
    expect(() => randomPassword(7)).toThrow(RangeError);
  });
});
