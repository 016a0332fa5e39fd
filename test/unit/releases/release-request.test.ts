import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { manifestResultKey, MANIFEST_SUFFIX } from '../../../lib/releases/release-api.js';
import { executionName, planRelease, releaseIdProblem, releaseInput, type ReleaseRequest } from '../../../lib/releases/release-request.js';
import { validateItem } from '../../../lib/input/validate-item.js';

/** The smallest valid release request. */
const base = { endpoint: 's3://bucket/app-1.0.tgz', destinationPath: '/data/app', userName: 'app', startScript: 'bin/start.sh', targets: 'h1,h2' };

const valid = (raw: Record<string, unknown>): ReleaseRequest => validateItem(releaseInput, raw);

/** The InputError message validation throws (fails the test if it does not throw one). */
function refusal(raw: Record<string, unknown>): string {
  try {
    valid(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('releaseInput: targets', () => {
  it.each(['glob', 'grain', 'pillar', 'nodegroup', 'compound', 'ipcidr', 'list'])('takes a salt target expression of type %s, kept as given', (type) => {
    expect(valid({ ...base, targets: { type, expression: ' role:web ' } }).targets).toEqual({ type, expression: 'role:web' });
  });

  it.each([
    [{ type: 'regex', expression: 'web.*' }, 'targets'],
    [{ type: 'grain', expression: '  ' }, 'targets'],
    [{ type: 'grain', expression: 'role:web', tgt_type: 'glob' }, 'targets'],
    [{ expression: 'role:web' }, 'targets'],
  ])('refuses a malformed target expression %j by the field name', (targets, field) => {
    expect(refusal({ ...base, targets })).toMatch(new RegExp(`^Parameter ${field}\\b`));
  });

  it('takes a JSON array of minion ids, numbers as strings, trimmed, duplicates dropped in first-seen order', () => {
    expect(valid({ ...base, targets: ['h2', 'h1', ' h2 ', 7, 'h1'] }).targets).toEqual(['h2', 'h1', '7']);
  });

  it('takes a "," or "|" list, blanks dropped, duplicates dropped', () => {
    expect(valid({ ...base, targets: 'b|a, b,,a ,c' }).targets).toEqual(['b', 'a', 'c']);
    expect(valid({ ...base, targets: 'only-one.example:1' }).targets).toEqual(['only-one.example:1']);
  });

  it.each([[''], ['  '], [' , | '], [[]], [['', ' ']], [undefined], [null]])('refuses empty targets %j', (targets) => {
    expect(refusal({ ...base, targets })).toBe('Parameter targets can not empty.');
  });

  it.each([['h1;rm -rf /'], ['h1,$(id)'], [['-leading-dash']], [['a b']], [['x'.repeat(254)]]])('refuses a target that is not a minion id: %j', (targets) => {
    expect(refusal({ ...base, targets })).toMatch(/^Parameter targets validation failed: ".*" is not a minion id$/);
  });

  it('accepts the longest minion id (253 characters)', () => {
    expect(valid({ ...base, targets: ['x'.repeat(253)] }).targets).toEqual(['x'.repeat(253)]);
  });
});

describe('releaseInput: mode, package and scripts', () => {
  it('defaults mode to new and the strategy to one batch with no failure tolerated', () => {
    const r = valid(base);
    expect(r.mode).toBe('new');
    expect(r.strategy).toEqual({ batchSize: 0, maxFailures: 0, minHealthy: 0 });
  });

  it('refuses an unknown mode', () => {
    expect(refusal({ ...base, mode: 'replace' })).toMatch(/^Parameter mode validation failed: /);
  });

  it.each([[undefined], [''], ['  ']])('refuses mode update without a stopScript (%j)', (stopScript) => {
    expect(refusal({ ...base, mode: 'update', stopScript })).toBe('Parameter stopScript can not empty.');
  });

  it('accepts mode update with a stopScript', () => {
    expect(valid({ ...base, mode: 'update', stopScript: 'bin/stop.sh' })).toMatchObject({ mode: 'update', stopScript: 'bin/stop.sh' });
  });

  it('needs an endpoint or a packageKey', () => {
    expect(refusal({ ...base, endpoint: undefined })).toBe('Parameter endpoint can not empty.');
    expect(refusal({ ...base, endpoint: ' ', packageKey: '' })).toBe('Parameter endpoint can not empty.');
    expect(valid({ ...base, endpoint: undefined, packageKey: 'pkgs/app-1.0.tgz' })).toMatchObject({ endpoint: undefined, packageKey: 'pkgs/app-1.0.tgz' });
  });

  it.each([['destinationPath'], ['userName'], ['startScript']])('refuses a missing %s', (field) => {
    expect(refusal({ ...base, [field]: '' })).toBe(`Parameter ${field} can not empty.`);
  });
});

describe('releaseInput: strategy (the forms and refusals are in release-plan.test.ts)', () => {
  it('takes numbers or numeric strings', () => {
    expect(valid({ ...base, strategy: { batchSize: '3', maxFailures: 2 } }).strategy).toEqual({ batchSize: 3, maxFailures: 2, minHealthy: 0 });
  });

  it('accepts the bounds themselves', () => {
    expect(valid({ ...base, strategy: { batchSize: 1000, maxFailures: 100_000 } }).strategy).toMatchObject({ batchSize: 1000, maxFailures: 100_000 });
  });

  it.each([
    [
      { strategy: { batchsize: 1 } },
      'Parameter strategy.batchsize validation failed: unknown field, nothing was done (known: batchSize, batches, maxFailures, minHealthy)',
    ],
    [
      { strategy: { batchSize: 1, maxfailures: 1, canary: 1 } },
      'Parameter strategy.maxfailures, strategy.canary validation failed: unknown fields, nothing was done (known: batchSize, batches, maxFailures, minHealthy)',
    ],
  ])('refuses an unknown or misspelt strategy field by name: %j (not an all-at-once release)', (extra, message) => {
    expect(refusal({ ...base, ...extra })).toBe(message);
  });

  it('refuses an unknown top-level field by name, listing the known ones', () => {
    expect(refusal({ ...base, batchSize: 1 })).toMatch(
      /^Parameter batchSize validation failed: unknown field, nothing was done \(known: guid, callbackParameter, name, mode, .*strategy\)$/,
    );
  });
});

describe('planRelease', () => {
  it('resolves the scripts under the install directory, health only when given', () => {
    const plan = planRelease('r1', valid({ ...base, mode: 'update', stopScript: 'bin/stop.sh', healthScript: 'bin/health.sh' }));
    expect(plan).toMatchObject({ id: 'r1', mode: 'update', start: '/data/app/bin/start.sh', stop: '/data/app/bin/stop.sh', health: '/data/app/bin/health.sh' });
    expect(planRelease('r2', valid(base))).toMatchObject({ stop: undefined, health: undefined });
  });

  it('refuses a relative destinationPath naming the field', () => {
    expect(() => planRelease('r', valid({ ...base, destinationPath: 'data/app' }))).toThrow(/^Parameter destinationPath validation failed: /);
  });
});

describe('executionName', () => {
  const ALPHABET = /^[A-Za-z0-9_-]{1,80}$/;

  it('replaces every run of characters outside [A-Za-z0-9_-] by one "-", trims dashes, appends the suffix', () => {
    expect(executionName('my app/v1.2 release!', '20250101-abc123')).toBe('my-app-v1-2-release-20250101-abc123');
    expect(executionName('__ok_', 's')).toBe('__ok_-s');
  });

  it('falls back to "release" for no label or a label of only other characters', () => {
    expect(executionName(undefined, 'x1')).toBe('release-x1');
    expect(executionName('', 'x1')).toBe('release-x1');
    expect(executionName('!!! ...', 'x1')).toBe('release-x1');
  });

  it('is at most 80 characters and keeps the whole suffix', () => {
    const suffix = '20250101093000-a1b2c3';
    const name = executionName('a'.repeat(200), suffix);
    expect(name).toHaveLength(80);
    expect(name.endsWith(`-${suffix}`)).toBe(true);
  });

  it.each([['façade/日本語 release'], ['a'.repeat(100)], ['x y z'], ['😀'.repeat(50)]])('gives a valid execution name for %j', (label) => {
    expect(executionName(label, 'deadbeefdeadbeef')).toMatch(ALPHABET);
  });

  it('is deterministic (the S3 trigger relies on it for repeated events)', () => {
    expect(executionName('orders.release', 'abc')).toBe(executionName('orders.release', 'abc'));
    expect(executionName('orders.release', 'abc')).not.toBe(executionName('orders.release', 'abd'));
  });

  it('gives names releaseIdProblem accepts', () => {
    expect(releaseIdProblem(executionName('some label', '0123456789abcdef'))).toBeUndefined();
  });
});

describe('releaseIdProblem', () => {
  it.each([['r1'], ['My_Release-20250101-abc'], ['a'.repeat(80)]])('accepts %j', (id) => {
    expect(releaseIdProblem(id)).toBeUndefined();
  });

  it.each([[''], ['a'.repeat(81)], ['bad id'], ['../x'], ['a:b'], ['a.b']])('refuses %j', (id) => {
    expect(releaseIdProblem(id)).toBe('must be 1-80 characters of letters, digits, _ and -');
  });
});

describe('manifestResultKey', () => {
  it('puts the result next to the manifest: <name>.release.json → <name>.release-result.json', () => {
    expect(MANIFEST_SUFFIX).toBe('.release.json');
    expect(manifestResultKey('releases/orders.release.json')).toBe('releases/orders.release-result.json');
    expect(manifestResultKey('a.b.release.json')).toBe('a.b.release-result.json');
    expect(manifestResultKey('.release.json')).toBe('.release-result.json');
  });

  it('never names the manifest itself nor another manifest (a result must not trigger a release)', () => {
    const key = manifestResultKey('x/orders.release.json');
    expect(key).not.toBe('x/orders.release.json');
    expect(key.endsWith(MANIFEST_SUFFIX)).toBe(false);
  });
});
