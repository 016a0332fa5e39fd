import { describe, expect, it } from '@jest/globals';
import { buildLocal, buildMasterCall, callKey, type LocalCall } from '../../../lib/salt/build-lowstate.js';

const call: LocalCall = {
  fun: 'cmd.run_all',
  tgt: ['10.0.0.1', '10.0.0.2', '10.0.0.1'],
  arg: ['/bin/true'],
  kwarg: { python_shell: false, timeout: 30 },
  timeout: 5,
  gatherJobTimeout: 10,
};

describe('buildLocal', () => {
  it('builds a sync `local` chunk with a deduplicated list target, full_return and the wait timeouts', () => {
    expect(buildLocal(call, 'sync')).toEqual({
      client: 'local',
      tgt: ['10.0.0.1', '10.0.0.2'],
      tgt_type: 'list',
      fun: 'cmd.run_all',
      arg: ['/bin/true'],
      kwarg: { python_shell: false, timeout: 30 },
      full_return: true,
      timeout: 5,
      gather_job_timeout: 10,
    });
  });

  it('is sync by default', () => {
    expect(buildLocal(call).client).toBe('local');
  });

  it('builds an async `local_async` chunk without full_return or wait timeouts', () => {
    expect(buildLocal(call, 'async')).toEqual({
      client: 'local_async',
      tgt: ['10.0.0.1', '10.0.0.2'],
      tgt_type: 'list',
      fun: 'cmd.run_all',
      arg: ['/bin/true'],
      kwarg: { python_shell: false, timeout: 30 },
    });
  });

  it.each(['sync', 'async'] as const)('never uses the removed expr_form (%s)', (mode) => {
    const chunk = buildLocal(call, mode);
    expect(chunk).not.toHaveProperty('expr_form');
    expect(JSON.stringify(chunk)).not.toContain('expr_form');
    expect(chunk.tgt_type).toBe('list');
  });

  it('targets a single host as a list of one', () => {
    expect(buildLocal({ fun: 'test.ping', tgt: ['127.0.0.1'] })).toEqual({
      client: 'local',
      tgt: ['127.0.0.1'],
      tgt_type: 'list',
      fun: 'test.ping',
      full_return: true,
    });
  });

  it('leaves out empty arg and kwarg', () => {
    const chunk = buildLocal({ fun: 'grains.items', tgt: ['h'], arg: [], kwarg: {} });
    expect(chunk).not.toHaveProperty('arg');
    expect(chunk).not.toHaveProperty('kwarg');
  });

  it('copies arg, kwarg and tgt so later changes to the call do not leak into the chunk', () => {
    const arg = ['a'];
    const kwarg: Record<string, unknown> = { k: 1 };
    const tgt = ['h1'];
    const chunk = buildLocal({ fun: 'f', tgt, arg, kwarg });
    arg.push('b');
    kwarg['k'] = 2;
    tgt.push('h2');
    expect(chunk).toMatchObject({ arg: ['a'], kwarg: { k: 1 }, tgt: ['h1'] });
  });

  it('refuses an empty target list', () => {
    expect(() => buildLocal({ fun: 'test.ping', tgt: [] })).toThrow(/empty target/);
  });
});

describe('buildMasterCall', () => {
  it('puts runner kwargs at the top level of the chunk', () => {
    expect(buildMasterCall('runner', 'jobs.list_job', { jid: '20261125104143358779' })).toEqual({
      client: 'runner',
      fun: 'jobs.list_job',
      jid: '20261125104143358779',
    });
  });

  it('builds a wheel chunk with match at the top level', () => {
    expect(buildMasterCall('wheel', 'key.accept', { match: ['10.0.0.1'], include_rejected: true })).toEqual({
      client: 'wheel',
      fun: 'key.accept',
      match: ['10.0.0.1'],
      include_rejected: true,
    });
  });

  it('does not let a kwarg override client or fun', () => {
    expect(buildMasterCall('wheel', 'key.list_all', { client: 'local', fun: 'cmd.run' })).toMatchObject({ client: 'wheel', fun: 'key.list_all' });
  });

  it('builds a bare chunk without kwargs', () => {
    expect(buildMasterCall('runner', 'manage.status')).toEqual({ client: 'runner', fun: 'manage.status' });
  });
});

describe('callKey', () => {
  it('is equal for kwargs given in a different key order, nested objects included', () => {
    expect(callKey({ fun: 'f', kwarg: { a: 1, b: { x: 1, y: 2 }, c: [1, 2] } })).toBe(callKey({ fun: 'f', kwarg: { c: [1, 2], b: { y: 2, x: 1 }, a: 1 } }));
  });

  it('is equal for an absent and an empty arg list', () => {
    expect(callKey({ fun: 'test.ping' })).toBe(callKey({ fun: 'test.ping', arg: [], kwarg: {} }));
  });

  it.each<[string, Parameters<typeof callKey>[0], Parameters<typeof callKey>[0]]>([
    ['different args', { fun: 'cmd.run_all', arg: ['ls /a'] }, { fun: 'cmd.run_all', arg: ['ls /b'] }],
    ['the same args in another order', { fun: 'f', arg: ['a', 'b'] }, { fun: 'f', arg: ['b', 'a'] }],
    ['different functions', { fun: 'cmd.run_all', arg: ['x'] }, { fun: 'cmd.script', arg: ['x'] }],
    ['different kwarg values', { fun: 'f', kwarg: { runas: 'app' } }, { fun: 'f', kwarg: { runas: 'root' } }],
    ['a kwarg present on one side only', { fun: 'f', kwarg: { cwd: '/tmp' } }, { fun: 'f' }],
    ['different timeouts', { fun: 'f', timeout: 5 }, { fun: 'f', timeout: 10 }],
    ['different gather_job_timeouts', { fun: 'f', gatherJobTimeout: 5 }, { fun: 'f', gatherJobTimeout: 10 }],
    ['a number and a string argument', { fun: 'f', arg: [1] }, { fun: 'f', arg: ['1'] }],
  ])('differs for %s', (_name, a, b) => {
    expect(callKey(a)).not.toBe(callKey(b));
  });
});
