import { describe, expect, it } from '@jest/globals';
import { randomSalt, sha512Crypt } from '../../../lib/users/sha512-crypt.js';

describe('sha512Crypt', () => {
  // The first two are the test vectors of Drepper's specification; the others were checked with
  // `openssl passwd -6 -salt <salt> -stdin` (glibc gives the same).
  it.each([
    ['Hello world!', 'saltstring', 5000, '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
    [
      'Hello world!',
      'saltstringsaltstring',
      10000,
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    ],
    ['', 'abc', 5000, '$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD.'],
    ['pässwörd $(x) `y`', 'Ab./12', 5000, '$6$Ab./12$GX3cv3qaksvyzSkn6vp7B47N1PWOh.ZuW6VtT/QV2LYZbtS6g6LMUyzU0aLt7UAcVyME0IdQr2.XlMk.kdz051'],
  ])('hashes %j with salt %j and %d rounds', (password, salt, rounds, expected) => {
    expect(sha512Crypt(password, salt, rounds)).toBe(expected);
  });

  it('uses a fresh 16-character salt by default, so the same password hashes differently', () => {
    const a = sha512Crypt('same');
    const b = sha512Crypt('same');
    expect(a).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(a).not.toBe(b);
    expect(randomSalt()).toMatch(/^[./0-9A-Za-z]{16}$/);
  });

  it('never contains the password', () => {
    expect(sha512Crypt('Sup3rSecret!', 'abcdefgh')).not.toContain('Sup3rSecret!');
  });

  it.each([['$bad'], ['a b'], ['x:y']])('refuses the salt %j', (salt) => {
    expect(() => sha512Crypt('p', salt)).toThrow(RangeError);
  });
});
