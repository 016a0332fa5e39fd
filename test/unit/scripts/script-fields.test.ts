import { describe, expect, it } from '@jest/globals';
import { argsField, endpointTypeField, runAsField, timeoutField, workDirField } from '../../../lib/scripts/script-fields.js';
import { pathProblem } from '../../../lib/scripts/script-path.js';

describe('runAsField', () => {
  it.each([
    ['app', { user: 'app', group: undefined }],
    ['app:apps', { user: 'app', group: 'apps' }],
    [' root ', { user: 'root', group: undefined }],
    ['_svc-1.x', { user: '_svc-1.x', group: undefined }],
    ['machine$', { user: 'machine$', group: undefined }],
  ])('accepts %j', (value, expected) => {
    expect(runAsField().parse(value)).toEqual(expected);
  });

  it.each(['a;b', 'root$(id)', 'a b', '-rf', 'a:b:c', "o'brien", 'x'.repeat(33), 'user:', 'ap\np'])('refuses %j', (value) => {
    expect(runAsField().safeParse(value).success).toBe(false);
  });

  it('refuses an absent runAs as empty', () => {
    expect(runAsField().safeParse(undefined).error?.issues[0]?.message).toBe('EMPTY');
  });
});

describe('pathProblem and workDirField', () => {
  it.each(['/opt/app', '/data/app/scripts/', '/tmp/with space', '/srv/中文/x', '/a/b-c_d.e@f%g+h=i:j,k~'])('accepts %j', (path) => {
    expect(pathProblem(path)).toBeUndefined();
    expect(workDirField().parse(path)).toBe(path);
  });

  it.each([
    ['relative/dir', 'absolute'],
    ['/opt/../etc', '..'],
    ['/tmp/a;b', 'may only contain'],
    ['/tmp/$(id)', 'may only contain'],
    ['/tmp/`id`', 'may only contain'],
    ["/tmp/'q'", 'may only contain'],
    ['/tmp/new\nline', 'may only contain'],
  ])('refuses %j (%s)', (path, why) => {
    expect(pathProblem(path)).toContain(why);
    expect(workDirField().safeParse(path).success).toBe(false);
  });

  it('treats an empty workDir as absent', () => {
    expect(workDirField().parse('')).toBeUndefined();
    expect(workDirField().parse(null)).toBeUndefined();
  });
});

describe('endpointTypeField', () => {
  it.each([
    ['LOCAL', undefined, 'LOCAL'],
    ['s3', undefined, 'S3'],
    [' user_param ', undefined, 'USER_PARAM'],
    [undefined, 'S3', 'S3'],
    ['LOCAL', 'S3', 'LOCAL'],
  ] as const)('reads %j (default %j) as %s', (value, fallback, expected) => {
    expect(endpointTypeField(fallback).parse(value)).toBe(expected);
  });

  it.each([['HTTP'], [undefined], ['']])('refuses %j without a default with upstream text', (value) => {
    expect(endpointTypeField(undefined).safeParse(value).error?.issues[0]?.message).toBe('must in (LOCAL,S3,USER_PARAM)');
  });
});

describe('timeoutField and argsField', () => {
  it.each([
    [undefined, 600],
    ['', 600],
    ['30', 30],
    [5, 5],
  ])('reads timeout %j as %d', (value, expected) => {
    expect(timeoutField(600).parse(value)).toBe(expected);
  });

  it.each(['0', '-1', '1.5', 'ten', '86401'])('refuses timeout %j', (value) => {
    expect(timeoutField(600).safeParse(value).success).toBe(false);
  });

  it('splits args and refuses shell operators', () => {
    expect(argsField().parse(`a 'b c'`)).toEqual(['a', 'b c']);
    expect(argsField().parse(null)).toEqual([]);
    expect(argsField().safeParse('a; rm -rf /').error?.issues[0]?.message).toContain("unquoted ';'");
  });
});
