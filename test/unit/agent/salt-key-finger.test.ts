import { describe, expect, it } from '@jest/globals';
import { extractMinionPub, PUB_MARKERS, saltKeyFinger } from '../../../lib/agent/salt-key-finger.js';

// A public key and the fingerprint salt 3007's salt.utils.crypt.pem_finger gave for it (what wheel key.finger prints).
const PUB = `-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDBtCi6lrM1yvSTwoUyV6zcZ9Q0
e8q+tEjZtWwRBI2g33v9GXhfmHqK3NAZ/0HmLIepydcJdMcS/czJaM53F7TU/RU+
+Sui10DTJu2hbYr2pp+OgADmebC2CLuF0LgJ/VlaqWA+Asm+j4Kb960t7BscCL5m
B1p39utH45eLjWCPkwIDAQAB
-----END PUBLIC KEY-----
`;
const FINGER = '41:8c:c9:52:86:bf:68:d8:4c:57:c5:f5:e1:57:86:22:ee:70:8b:7e:01:45:ac:b6:98:29:75:d5:ad:d9:33:96';

describe('saltKeyFinger', () => {
  it.each([
    ['the key as written by salt-minion', PUB],
    ['CRLF line ends', PUB.replace(/\n/g, '\r\n')],
    ['blank lines around and inside', `\n${PUB.replace('\n', '\n\n')}\n`],
  ])('gives salt’s pem_finger for %s', (_name, text) => {
    expect(saltKeyFinger(text)).toBe(FINGER);
  });

  it('differs for another key', () => {
    expect(saltKeyFinger(PUB.replace('MIGf', 'MIGg'))).not.toBe(FINGER);
  });

  it.each([[''], ['not a key'], ['-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n']])('is undefined for %j', (text) => {
    expect(saltKeyFinger(text)).toBeUndefined();
  });
});

describe('extractMinionPub', () => {
  it('takes the key between the install script’s markers, whatever surrounds it', () => {
    const stdout = `agent-step: configure\nagent-step: wait-key\n${PUB_MARKERS.begin}\n${PUB}\n${PUB_MARKERS.end}\nnoise`;
    expect(saltKeyFinger(extractMinionPub(stdout)!)).toBe(FINGER);
  });

  it.each([['no markers'], [`${PUB_MARKERS.begin}\n${PUB}`]])('is undefined without both markers (%#)', (stdout) => {
    expect(extractMinionPub(stdout)).toBeUndefined();
  });
});
