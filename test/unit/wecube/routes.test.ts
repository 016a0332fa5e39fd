import { describe, expect, it } from '@jest/globals';
import { OPERATIONS } from '../../../lib/registry.js';
import { legacyPaths, resolveRoute } from '../../../lib/wecube/routes.js';

describe('resolveRoute', () => {
  it.each([
    ['/saltstack/v1/p/a', 'p', 'a'],
    ['/saltstack/v1/host-file/copy', 'host-file', 'copy'],
    ['/saltstack/v1/password/decode?x=1', 'password', 'decode'],
    ['/saltstack/v1/password/decode/', 'password', 'decode'],
    ['/v1/deploy/file/copy', 'host-file', 'copy'],
    ['/v1/deploy/user/add', 'host-user', 'add'],
    ['/v1/deploy/user/remove', 'host-user', 'delete'],
    ['/v1/deploy/database/runScript', 'mysql-script', 'run'],
    ['/v1/deploy/variable/replace', 'package-variable', 'replace'],
    ['/v1/deploy/script/run', 'host-script', 'run'],
    ['/v1/deploy/agent/install', 'agent', 'install'],
    ['/v1/deploy/disk/getUnformatedDisk', 'disk', 'getUnformatedDisk'],
    ['/v1/deploy/disk/formatAndMountDisk', 'disk', 'formatAndMountDisk'],
    ['/v1/deploy/apply-deployment/new', 'apply-deployment', 'new'],
    ['/v1/deploy/host-user/remove', 'host-user', 'delete'],
    ['/v1/deploy/user/password', 'host-user', 'password'],
    ['/v1/deploy/script/ssh-run', 'host-script', 'ssh-run'],
    // unknown names come back as they are, for the "not found" envelope
    ['/v1/deploy/nothing/here', 'nothing', 'here'],
  ])('maps %s to %s/%s', (path, plugin, action) => {
    expect(resolveRoute(path)).toEqual({ plugin, action });
  });

  it.each([
    [''],
    ['/'],
    ['/saltstack/v1/password'],
    ['/saltstack/v1/password/decode/extra'],
    ['/saltstack/v2/password/decode'],
    ['/v2/deploy/file/copy'],
    ['/v1/deploy/file'],
    ['/health'],
    ['/other/v1/password/decode'],
  ])('returns undefined for %j', (path) => {
    expect(resolveRoute(path)).toBeUndefined();
  });
});

describe('legacyPaths', () => {
  it.each([
    ['password', 'encode', ['/v1/deploy/password/encode']],
    ['host-file', 'copy', ['/v1/deploy/host-file/copy', '/v1/deploy/file/copy']],
    ['host-user', 'delete', ['/v1/deploy/host-user/delete', '/v1/deploy/host-user/remove', '/v1/deploy/user/delete', '/v1/deploy/user/remove']],
    ['mysql-script', 'run', ['/v1/deploy/mysql-script/run', '/v1/deploy/mysql-script/runScript', '/v1/deploy/database/run', '/v1/deploy/database/runScript']],
    ['package-variable', 'replace', ['/v1/deploy/package-variable/replace', '/v1/deploy/variable/replace']],
  ])('lists every legacy path of %s/%s', (plugin, action, expected) => {
    expect([...legacyPaths({ plugin, action })].sort()).toEqual([...expected].sort());
  });

  it.each(OPERATIONS.map((o) => [o.plugin, o.action]))('lists only paths that resolve back to %s/%s', (plugin, action) => {
    const paths = legacyPaths({ plugin, action });
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(resolveRoute(path)).toEqual({ plugin, action });
  });
});
