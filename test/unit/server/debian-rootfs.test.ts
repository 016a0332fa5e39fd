import { describe, expect, it } from '@jest/globals';
import { PLUGIN_ROOTFS, rootfsKey } from '../../../scripts/lib/debian-rootfs.js';

// The cache is keyed by everything that goes into the root filesystem: change any of it, get a new build.
describe('rootfsKey', () => {
  it('is stable for the same spec', () => {
    expect(rootfsKey({ ...PLUGIN_ROOTFS })).toBe(rootfsKey(PLUGIN_ROOTFS));
    expect(rootfsKey(PLUGIN_ROOTFS)).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ['another package', { include: [...PLUGIN_ROOTFS.include, 'curl'] }],
    ['another suite', { suite: 'trixie' }],
    ['another variant', { variant: 'minbase' }],
    ['another mirror', { sources: ['deb http://mirror.example/debian bookworm main'] }],
    ['another hook', { customizeHooks: [...PLUGIN_ROOTFS.customizeHooks, 'true'] }],
    ['another dpkg option', { dpkgOptions: [] }],
  ])('changes with %s', (_, change) => {
    expect(rootfsKey({ ...PLUGIN_ROOTFS, ...change })).not.toBe(rootfsKey(PLUGIN_ROOTFS));
  });

  it('holds what Node links against and the CA certificates, and creates user app (10001) with no login shell', () => {
    expect(PLUGIN_ROOTFS.include).toEqual(expect.arrayContaining(['ca-certificates', 'libstdc++6', 'libgcc-s1']));
    expect(PLUGIN_ROOTFS.customizeHooks.join('\n')).toContain('app:x:10001:10001:WeCube saltstack plugin:/home/app:/usr/sbin/nologin');
  });
});
