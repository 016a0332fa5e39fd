import { describe, expect, it } from '@jest/globals';
import { planScripts, withShebang, type ScriptRequest } from '../../../lib/scripts/plan-scripts.js';

const req = (over: Partial<ScriptRequest>): ScriptRequest => ({
  endpointType: 'LOCAL',
  endpoint: undefined,
  scriptContent: undefined,
  args: [],
  workDir: undefined,
  ...over,
});

describe('planScripts', () => {
  it('runs each LOCAL path in its own directory, with the arguments after the path then args', () => {
    expect(planScripts(req({ endpoint: "/opt/a/start.sh -p 'x y'|/opt/b/stop.sh", args: ['z'] }))).toEqual([
      { label: '/opt/a/start.sh', source: { kind: 'local', path: '/opt/a/start.sh' }, args: ['-p', 'x y', 'z'], cwd: '/opt/a' },
      { label: '/opt/b/stop.sh', source: { kind: 'local', path: '/opt/b/stop.sh' }, args: ['z'], cwd: '/opt/b' },
    ]);
  });

  it('resolves a relative LOCAL path in workDir (a directory, not a string prefix) and runs there', () => {
    const [step] = planScripts(req({ endpoint: 'bin/start.sh', workDir: '/opt/app' })) as Array<{ source: unknown; cwd: string }>;
    expect(step).toMatchObject({ source: { kind: 'local', path: '/opt/app/bin/start.sh' }, cwd: '/opt/app' });
    const [abs] = planScripts(req({ endpoint: '/srv/x.sh', workDir: '/opt/app' })) as Array<{ source: unknown; cwd: string }>;
    expect(abs).toMatchObject({ source: { kind: 'local', path: '/srv/x.sh' }, cwd: '/opt/app' });
  });

  it('gives no script for an empty LOCAL endpoint or empty content (upstream: success, empty detail)', () => {
    expect(planScripts(req({ endpoint: '' }))).toEqual([]);
    expect(planScripts(req({ endpointType: 'USER_PARAM', scriptContent: '  \n' }))).toEqual([]);
  });

  it.each([
    ['start.sh', 'absolute'],
    ['/opt/../etc/x.sh', '..'],
    ['/opt/a.sh; touch /tmp/x', "unquoted ';'"],
    ['/opt/$(id).sh', "unquoted '$'"],
    ["'/opt/a b;c.sh'", 'may only contain'],
    ['/opt/dir/', 'directory'],
  ])('refuses the LOCAL endpoint %j (%s) naming the field', (endpoint, why) => {
    const problem = planScripts(req({ endpoint })) as { field: string; message: string };
    expect(problem.field).toBe('endpoint');
    expect(problem.message).toContain(why);
  });

  it('parses S3 endpoints, runs them in workDir, and needs at least one', () => {
    const steps = planScripts(req({ endpointType: 'S3', endpoint: 'http://s3:9000/bucket/dir/a.sh,s3://b2/k.py', workDir: '/tmp', args: ['q'] }));
    expect(steps).toMatchObject([
      { source: { kind: 's3', ref: { bucket: 'bucket', key: 'dir/a.sh' } }, args: ['q'], cwd: '/tmp' },
      { source: { kind: 's3', ref: { bucket: 'b2', key: 'k.py' } } },
    ]);
    expect(planScripts(req({ endpointType: 'S3', endpoint: '' }))).toEqual({ field: 'endpoint', message: 'endpoint can not empty when endpointType=S3' });
    expect(planScripts(req({ endpointType: 'S3', endpoint: 'ftp://x/y' }))).toMatchObject({ field: 'endpoint', message: 'S3 url ftp://x/y is illegal.' });
  });

  it('runs inline content, adding a #! line only when it has none', () => {
    expect(planScripts(req({ endpointType: 'USER_PARAM', scriptContent: 'echo hi' }))).toMatchObject([
      { source: { kind: 'inline', content: '#!/bin/sh\necho hi' } },
    ]);
    expect(withShebang('#!/usr/bin/python3\nprint(1)')).toBe('#!/usr/bin/python3\nprint(1)');
  });
});
