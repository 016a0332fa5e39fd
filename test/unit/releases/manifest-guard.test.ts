import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError, InputError } from '../../../lib/errors.js';
import { checkManifestBuckets, isManifest, uploaderRefusal, type ManifestPolicy } from '../../../lib/releases/manifest-guard.js';
import { releaseTrigger } from '../../../lib/releases/release-api.js';
import type { Runtime } from '../../../lib/runtime.js';
import { MemoryStore } from '../artifacts/memory-store.js';
import { captureLogger } from '../helpers.js';

const policy = (uploaders: string[] = ['AWS:AIDAUPLOADER']): ManifestPolicy => ({ bucket: 'artifacts', prefix: 'releases/', uploaders });

describe('isManifest: the artifact bucket, the manifest prefix, *.release.json', () => {
  it.each<[string, string, string, boolean]>([
    ['a manifest under the prefix', 'artifacts', 'releases/app.release.json', true],
    ['a manifest deeper under the prefix', 'artifacts', 'releases/team/app.release.json', true],
    ['a manifest at the bucket root', 'artifacts', 'app.release.json', false],
    ['a manifest under another prefix', 'artifacts', 'uploads/app.release.json', false],
    ['a prefix without its slash', 'artifacts', 'releases-x/app.release.json', false],
    ['the prefix as a later segment', 'artifacts', 'x/releases/app.release.json', false],
    ['a result object', 'artifacts', 'releases/app.release-result.json', false],
    ['another suffix', 'artifacts', 'releases/app.json', false],
    ['another bucket', 'other', 'releases/app.release.json', false],
    ['dot segments walking out of the prefix', 'artifacts', 'releases/../app.release.json', false],
    ['a dot segment', 'artifacts', 'releases/./app.release.json', false],
  ])('%s: %s/%s → %s', (_, bucket, key, taken) => {
    expect(isManifest(policy(), bucket, key)).toBe(taken);
  });

  it('takes any bucket when no artifact bucket is configured', () => {
    expect(isManifest({ ...policy(), bucket: undefined }, 'other', 'releases/app.release.json')).toBe(true);
  });
});

describe('uploaderRefusal: RELEASE_UPLOADERS', () => {
  it.each<[string, string[], string | undefined, string | undefined]>([
    ['a listed principal', ['AWS:AIDAUPLOADER'], 'AWS:AIDAUPLOADER', undefined],
    ['one of several', ['AWS:AIDAOTHER', 'AWS:AIDAUPLOADER'], 'AWS:AIDAUPLOADER', undefined],
    ['an unlisted principal', ['AWS:AIDAUPLOADER'], 'AWS:AIDAINTRUDER', 'uploader "AWS:AIDAINTRUDER" is not in RELEASE_UPLOADERS'],
    ['a listed id as a prefix of the uploader', ['AWS:AIDAUPLOADER'], 'AWS:AIDAUPLOADER2', 'is not in RELEASE_UPLOADERS'],
    ['case differences', ['AWS:AIDAUPLOADER'], 'aws:aidauploader', 'is not in RELEASE_UPLOADERS'],
    ['an empty list (the default)', [], 'AWS:AIDAUPLOADER', 'RELEASE_UPLOADERS names no uploader'],
    ['an empty list, even for anonymous', [], 'anonymous', 'RELEASE_UPLOADERS names no uploader'],
    ['`*`: anyone who can write', ['*'], 'AWS:AIDAANYONE', undefined],
    ['`*`, with no principal in the event', ['*'], undefined, 'names no uploader'],
    ['a role and any of its sessions', ['AWS:AROAROLE:*'], 'AWS:AROAROLE:ci-1234', undefined],
    ['another role with a session', ['AWS:AROAROLE:*'], 'AWS:AROAROLE2:ci-1234', 'is not in RELEASE_UPLOADERS'],
    ['no principal in the event', ['AWS:AIDAUPLOADER'], undefined, 'names no uploader'],
    ['a blank principal', ['AWS:AIDAUPLOADER'], '  ', 'names no uploader'],
  ])('%s', (_, uploaders, principal, refusal) => {
    const problem = uploaderRefusal(policy(uploaders), principal);
    if (refusal === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(refusal);
  });
});

describe('checkManifestBuckets: packages from the manifest bucket only', () => {
  it.each<[string, { endpoint?: string; packageKey?: string }, string | undefined]>([
    ['a package key', { packageKey: 'releases/app-1.0.tgz' }, undefined],
    ['s3:// in the same bucket', { endpoint: 's3://artifacts/pkgs/app.tgz' }, undefined],
    ['path style in the same bucket', { endpoint: 'http://127.0.0.1:9000/artifacts/pkgs/app.tgz' }, undefined],
    ['virtual-hosted in the same bucket', { endpoint: 'https://artifacts.s3.ap-southeast-1.amazonaws.com/pkgs/app.tgz' }, undefined],
    ['s3:// in another bucket', { endpoint: 's3://other/pkgs/app.tgz' }, 'may only name packages in that bucket, not in other'],
    ['path style in another bucket', { endpoint: 'http://127.0.0.1:9000/other/pkgs/app.tgz' }, 'not in other'],
    ['virtual-hosted in another bucket', { endpoint: 'https://other.s3.amazonaws.com/app.tgz' }, 'not in other'],
    ['a URL whose .. leaves the bucket', { endpoint: 'http://127.0.0.1:9000/artifacts/../other/app.tgz' }, 'not in other'],
    ['s3:// with .. segments', { endpoint: 's3://artifacts/../other/app.tgz' }, '`.` and `..` segments'],
    ['a package key with .. segments', { packageKey: '../other/app.tgz' }, 'Parameter packageKey'],
    ['the endpoint wins over a package key', { endpoint: 's3://other/app.tgz', packageKey: 'app.tgz' }, 'not in other'],
  ])('%s', (_, request, refusal) => {
    const check = () => checkManifestBuckets('artifacts', request);
    if (refusal === undefined) return expect(check).not.toThrow();
    expect(check).toThrow(InputError);
    expect(check).toThrow(refusal);
  });
});

describe('config: RELEASE_MANIFEST_PREFIX and RELEASE_UPLOADERS', () => {
  const base = { AUTH_MODE: 'off' };
  it('defaults to releases/ and to no uploader (S3-started releases off)', () => {
    const { releases } = loadConfig(base);
    expect(releases.manifestPrefix).toBe('releases/');
    expect(releases.uploaders).toEqual([]);
  });

  it.each([
    ['deploy', 'deploy/'],
    ['/deploy/prod//', 'deploy/prod/'],
    [' team/releases/ ', 'team/releases/'],
  ])('normalises the prefix %j to %j', (given, prefix) => {
    expect(loadConfig({ ...base, RELEASE_MANIFEST_PREFIX: given }).releases.manifestPrefix).toBe(prefix);
  });

  it.each(['', '/', ' // '])('refuses the empty prefix %j, naming the variable', (given) => {
    expect(() => loadConfig({ ...base, RELEASE_MANIFEST_PREFIX: given })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, RELEASE_MANIFEST_PREFIX: given })).toThrow('RELEASE_MANIFEST_PREFIX');
  });

  it('splits the uploaders on commas, trimmed, blanks dropped', () => {
    expect(loadConfig({ ...base, RELEASE_UPLOADERS: ' AWS:AIDAONE , ,AWS:AROAROLE:* ' }).releases.uploaders).toEqual(['AWS:AIDAONE', 'AWS:AROAROLE:*']);
  });
});

// The trigger on an in-memory store: refusals are answered next to the manifest, before anything starts
// (no salt client and no release runner exist here: reaching them would throw).
describe('releaseTrigger refusals', () => {
  const setup = (env: Record<string, string> = {}) => {
    const store = new MemoryStore();
    const { logger, lines } = captureLogger();
    const config = loadConfig({ AUTH_MODE: 'off', S3_BUCKET: 'artifacts', RELEASE_RUNNER: 'aws', RELEASE_UPLOADERS: 'AWS:AIDAUPLOADER', ...env });
    const rt: Runtime = {
      config,
      logger,
      store: () => store,
      salt: () => {
        throw new Error('no salt in a refusal');
      },
      // what the composition root answers for RELEASE_RUNNER=aws without RELEASE_STATE_MACHINE_ARN
      releaseRunner: () => Promise.reject(new Error('RELEASE_STATE_MACHINE_ARN is not set: releases cannot start')),
      releaseEvents: () => [],
    };
    return { store, lines, trigger: releaseTrigger(rt) };
  };
  const manifest = (fields: Record<string, unknown> = {}) =>
    Buffer.from(
      JSON.stringify({
        name: 'app',
        packageKey: 'releases/app.tgz',
        destinationPath: '/srv/apps/app/',
        userName: 'app',
        startScript: 'bin/start.sh',
        targets: ['m1'],
        ...fields,
      }),
    );
  const event = (bucket: string, key: string, principalId?: string) => ({
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        ...(principalId && { userIdentity: { principalId } }),
        s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), eTag: '"e1"' } },
      },
    ],
  });
  const resultOf = (store: MemoryStore, bucket: string, key: string) => {
    const data = store.read(bucket, key);
    return data && (JSON.parse(data.toString('utf8')) as Record<string, unknown>);
  };

  it.each([
    ['outside the prefix', 'artifacts', 'uploads/app.release.json'],
    ['in another bucket', 'other', 'releases/app.release.json'],
    ['with .. segments', 'artifacts', 'releases/../app.release.json'],
  ])('ignores a manifest %s: nothing read, nothing written', async (_, bucket, key) => {
    const { store, lines, trigger } = setup();
    store.set(bucket, key, manifest());
    const outcome = await trigger(event(bucket, key, 'AWS:AIDAUPLOADER'));
    expect(outcome).toEqual({ started: [], duplicates: [], invalid: [], refused: [] });
    expect(store.calls).toEqual([]);
    expect(lines.join('\n')).toContain('release manifest ignored');
  });

  it.each<[string, Record<string, string>, string | undefined, string]>([
    ['an uploader not on the list', {}, 'AWS:AIDAINTRUDER', 'uploader "AWS:AIDAINTRUDER" is not in RELEASE_UPLOADERS'],
    ['an event without uploader', {}, undefined, 'names no uploader'],
    ['any uploader when the list is empty', { RELEASE_UPLOADERS: '' }, 'AWS:AIDAUPLOADER', 'RELEASE_UPLOADERS names no uploader'],
  ])('refuses %s without reading the manifest, the reason in the result object', async (_, env, principal, reason) => {
    const { store, lines, trigger } = setup(env);
    store.set('artifacts', 'releases/app.release.json', manifest());
    const outcome = await trigger(event('artifacts', 'releases/app.release.json', principal));
    expect(outcome.refused).toEqual(['releases/app.release.json']);
    expect(outcome.started).toEqual([]);
    expect(store.calls).toEqual(['put artifacts/releases/app.release-result.json']);
    expect(resultOf(store, 'artifacts', 'releases/app.release-result.json')).toMatchObject({
      status: 'REFUSED',
      manifest: 'releases/app.release.json',
      error: expect.stringContaining(reason),
    });
    expect(lines.join('\n')).toContain('release manifest refused');
  });

  it.each([
    ['s3://other/app.tgz', 'not in other'],
    ['http://127.0.0.1:9000/other/app.tgz', 'not in other'],
    ['s3://artifacts/../other/app.tgz', '`.` and `..` segments'],
  ])('refuses a manifest whose package %s is outside its bucket', async (endpoint, reason) => {
    const { store, trigger } = setup();
    store.set('artifacts', 'releases/app.release.json', manifest({ endpoint }));
    const outcome = await trigger(event('artifacts', 'releases/app.release.json', 'AWS:AIDAUPLOADER'));
    expect(outcome.refused).toEqual(['releases/app.release.json']);
    expect(store.calls).toEqual(['get artifacts/releases/app.release.json', 'put artifacts/releases/app.release-result.json']);
    expect(resultOf(store, 'artifacts', 'releases/app.release-result.json')).toMatchObject({ status: 'REFUSED', error: expect.stringContaining(reason) });
  });

  it('passes an allowed, well-formed manifest on to the release runner', async () => {
    // RELEASE_RUNNER=aws without a state machine ARN: reaching the runner is what this test looks for
    const { store, trigger } = setup({ RELEASE_UPLOADERS: '*' });
    store.set('artifacts', 'releases/app.release.json', manifest());
    await expect(trigger(event('artifacts', 'releases/app.release.json', 'AWS:AIDAANYONE'))).rejects.toThrow('RELEASE_STATE_MACHINE_ARN');
    expect(store.read('artifacts', 'releases/app.release-result.json')).toBeUndefined();
  });
});
