import { describe, expect, it } from '@jest/globals';
import { stepsError } from '../../../lib/salt/apply-steps.js';
import { anyChanges, firstFailure, highData, stateOutcomes, stripSignatures } from '../../../lib/salt/high-data.js';
import { normaliseHostReturn } from '../../../lib/salt/normalise-result.js';

describe('highData', () => {
  it('turns steps into state.high data with explicit order and module-qualified requisites', () => {
    expect(
      highData([
        { id: 'copy', state: 'file.managed', args: { name: '/a', user: undefined, makedirs: true } },
        { id: 'unpack', state: 'archive.extracted', args: { name: '/s' }, require: ['copy'] },
        { id: 'undo', state: 'module.run', args: { 'cmd.run_all': [{ cmd: ['true'] }] }, onfail: ['unpack'] },
        { id: 'clean', state: 'file.absent', args: { name: '/s' }, last: true },
      ]),
    ).toEqual({
      copy: { file: ['managed', { name: '/a' }, { makedirs: true }, { order: 1 }], __env__: 'base', __sls__: 'wecube-plugin' },
      unpack: { archive: ['extracted', { name: '/s' }, { require: [{ file: 'copy' }] }, { order: 2 }], __env__: 'base', __sls__: 'wecube-plugin' },
      undo: {
        module: ['run', { 'cmd.run_all': [{ cmd: ['true'] }] }, { onfail: [{ archive: 'unpack' }] }, { order: 3 }],
        __env__: 'base',
        __sls__: 'wecube-plugin',
      },
      clean: { file: ['absent', { name: '/s' }, { order: 'last' }], __env__: 'base', __sls__: 'wecube-plugin' },
    });
  });

  it.each([
    [
      [
        { id: 'a', state: 'file.absent', args: {} },
        { id: 'a', state: 'file.absent', args: {} },
      ],
      'duplicate state id a',
    ],
    [[{ id: 'a', state: 'absent', args: {} }], 'bad state absent'],
  ])('refuses %j', (steps, message) => {
    expect(() => highData(steps)).toThrow(message);
  });
});

/** A state.high return as salt gives it (keys in no particular order). */
const ret = {
  'file_|-clean_|-/s_|-absent': { __id__: 'clean', __run_num__: 3, result: true, comment: 'Removed directory /s', changes: { removed: '/s' } },
  'file_|-copy_|-/a_|-managed': {
    __id__: 'copy',
    __run_num__: 0,
    result: false,
    comment: 'Unable to manage file: HTTP error 403 reading http://s3/b/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=deadbeef: Forbidden',
    changes: {},
  },
  'archive_|-unpack_|-/s_|-extracted': {
    __id__: 'unpack',
    __run_num__: 1,
    result: false,
    comment: 'One or more requisite failed: wecube-plugin.copy',
    changes: {},
  },
};

describe('state.high results', () => {
  it('lists the states in the order they ran', () => {
    expect(stateOutcomes(ret).map((s) => [s.id, s.result])).toEqual([
      ['copy', false],
      ['unpack', false],
      ['clean', true],
    ]);
  });

  it('names the state that failed on its own, not the ones whose requisite failed, without URL signatures', () => {
    expect(firstFailure(ret)).toBe('copy: Unable to manage file: HTTP error 403 reading http://s3/b/k?<presigned>: Forbidden');
  });

  it('says whether anything changed', () => {
    expect(anyChanges(ret)).toBe(true);
    expect(anyChanges({ 'mount_|-m_|-/d_|-mounted': { result: true, comment: 'already', changes: {} } })).toBe(false);
    expect(anyChanges('not a dict')).toBe(false);
  });

  it.each([
    ['see http://h/b/k?X-Amz-Credential=a%2Fb&X-Amz-Signature=f00 now', 'see http://h/b/k?<presigned> now'],
    ['no url here', 'no url here'],
  ])('stripSignatures(%j)', (text, expected) => {
    expect(stripSignatures(text)).toBe(expected);
  });

  it('makes a JobFailedError naming the host and the failed state', () => {
    const result = normaliseHostReturn('10.0.0.1', { ret, retcode: 2, jid: '1' });
    const error = stepsError(result, 'Copy of x');
    expect(error.name).toBe('JobFailedError');
    expect(error.message).toBe('Copy of x failed on 10.0.0.1: copy: Unable to manage file: HTTP error 403 reading http://s3/b/k?<presigned>: Forbidden');
  });

  it('makes a TargetNoReturnError for a host that did not answer', () => {
    const error = stepsError(normaliseHostReturn('10.0.0.9', false), 'Copy of x');
    expect(error.name).toBe('TargetNoReturnError');
    expect(error.message).toMatch(/^Cannot connect to target 10\.0\.0\.9\./);
  });
});
