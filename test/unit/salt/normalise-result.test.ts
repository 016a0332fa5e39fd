import { describe, expect, it } from '@jest/globals';
import {
  normaliseHostReturn,
  normaliseLocalReturn,
  summariseSaltError,
  type HostErrorKind,
  type NormaliseOptions,
} from '../../../lib/salt/normalise-result.js';
import { sampleJobResult, sampleReturn } from '../helpers.js';

interface Expected {
  ok: boolean;
  error?: HostErrorKind;
  retcode?: number | null;
  stdout?: string;
  stderr?: string;
  /** A fragment the message must contain. */
  says?: string;
}

type Row = [string, string, string, NormaliseOptions, Expected];

/** [sample number, what it is, host, options, expected] for `local` returns. */
const localRows: Row[] = [
  ['020', 'test.ping true', 'minion-a', {}, { ok: true, retcode: 0 }],
  ['021', 'an unknown id in a list target ("Minion did not return" string)', 'ghost-minion', {}, { ok: false, error: 'NO_RETURN', retcode: null }],
  ['021', 'a known id next to an unknown one', 'minion-b', {}, { ok: true, retcode: 0 }],
  ['025', 'cmd.run text output', 'minion-a', {}, { ok: true, retcode: 0, stdout: 'hello\nLinux' }],
  ['025', 'cmd.run text where a dict was expected', 'minion-a', { expectObject: true }, { ok: false, error: 'BAD_SHAPE', says: 'hello' }],
  ['027', 'cmd.run_all success', 'minion-a', {}, { ok: true, retcode: 0, stdout: 'hello', stderr: '' }],
  ['028', 'cmd.run_all exit 3', 'minion-a', {}, { ok: false, error: 'NONZERO_EXIT', retcode: 3, stdout: 'out', stderr: 'err', says: 'code 3' }],
  ['031', 'cmd.run_all exit 3 with full_return', 'minion-a', {}, { ok: false, error: 'NONZERO_EXIT', retcode: 3, stdout: 'out', stderr: 'err' }],
  ['037', 'cmd.script exit 7', 'minion-a', {}, { ok: false, error: 'NONZERO_EXIT', retcode: 7, stdout: 'about to fail', stderr: 'failure detail' }],
  [
    '041',
    'cmd.script exception (404 source) with full_return',
    'minion-a',
    {},
    {
      ok: false,
      error: 'FUNCTION_ERROR',
      retcode: 1,
      says: 'salt.exceptions.MinionError: Error: HTTP 404: File not found reading /does-not-exist.sh',
    },
  ],
  ['042', 'cmd.script killed by its timeout kwarg', 'minion-a', {}, { ok: false, error: 'TIMEOUT', retcode: 1, says: '2 s' }],
  [
    '051',
    'a failed file.managed state (retcode 2)',
    'minion-a',
    {},
    { ok: false, error: 'FUNCTION_ERROR', retcode: 2, says: 'does not match actual checksum' },
  ],
  [
    '058',
    'state.apply with a failed cmd.run state and a failed requisite (retcode 2)',
    'minion-a',
    {},
    {
      ok: false,
      error: 'FUNCTION_ERROR',
      retcode: 2,
      says: 'lab-cmd-fails',
    },
  ],
  [
    '059',
    'state.apply of a missing sls (list return, retcode 1)',
    'minion-a',
    {},
    { ok: false, error: 'FUNCTION_ERROR', retcode: 1, says: "No matching sls found for 'nope'" },
  ],
  ['106', 'an unknown function', 'minion-a', {}, { ok: false, error: 'FUNCTION_ERROR', says: "'test.nope' is not available" }],
  ['107', 'an unknown module with full_return', 'minion-a', {}, { ok: false, error: 'FUNCTION_ERROR', retcode: 1, says: "'nosuchmod.fn' is not available" }],
  ['117', 'an accepted but offline minion (false)', 'offline-minion', {}, { ok: false, error: 'NO_RETURN', retcode: null }],
  ['117', 'an online minion next to an offline one', 'minion-a', {}, { ok: true, retcode: 0 }],
  ['118', 'an offline minion with full_return (false)', 'offline-minion', {}, { ok: false, error: 'NO_RETURN', retcode: null }],
  ['118', 'an online minion with full_return', 'minion-a', {}, { ok: true, retcode: 0 }],
  ['125', 'an unknown id with full_return (out no_return)', 'ghost-minion', {}, { ok: false, error: 'NO_RETURN', retcode: null }],
  ['127', 'output replaced by VALUE_TRIMMED', 'minion-a', {}, { ok: false, error: 'TRIMMED', stdout: '' }],
  ['128', 'VALUE_TRIMMED on one of several minions', '127.0.0.1', {}, { ok: false, error: 'TRIMMED' }],
  ['128', 'an offline minion in a trimmed run', 'offline-minion', {}, { ok: false, error: 'NO_RETURN' }],
  ['138', 'cmd.run_all killed by its timeout kwarg (full_return)', 'minion-a', {}, { ok: false, error: 'TIMEOUT', retcode: 1, says: '3 s' }],
];

/** The same rows for the job-cache shape `{return, retcode, success}` of GET /jobs/<jid>. */
const jobRows: Row[] = [
  ['094', 'a finished job from the job cache', 'minion-b', {}, { ok: true, retcode: 0, stdout: 'slept' }],
  ['122', 'a test.ping from the job cache', '127.0.0.1', {}, { ok: true, retcode: 0 }],
  ['132', 'VALUE_TRIMMED in the job cache, even with retcode 0 and success true', 'minion-a', {}, { ok: false, error: 'TRIMMED' }],
];

function check(host: string, value: unknown, options: NormaliseOptions, expected: Expected) {
  const result = normaliseHostReturn(host, value, options);
  expect(result.host).toBe(host);
  expect(result.ok).toBe(expected.ok);
  if (expected.ok) {
    expect(result.error).toBeUndefined();
    expect(result.message).toBeUndefined();
  } else {
    if (expected.error) expect(result.error).toBe(expected.error);
    else expect(result.error).toBeDefined();
    // Every failure message names the host, so a multi-host answer says which one failed.
    expect(result.message).toContain(host);
  }
  if (expected.retcode !== undefined) expect(result.retcode).toBe(expected.retcode);
  if (expected.stdout !== undefined) expect(result.stdout).toBe(expected.stdout);
  if (expected.stderr !== undefined) expect(result.stderr).toBe(expected.stderr);
  if (expected.says !== undefined) expect(result.message).toContain(expected.says);
}

describe('normaliseHostReturn on real salt-api `local` returns', () => {
  it.each(localRows)('sample %s: %s (%s)', (sample, _what, host, options, expected) => {
    check(host, sampleReturn(sample)[host], options, expected);
  });
});

describe('normaliseHostReturn on real job-cache results', () => {
  it.each(jobRows)('sample %s: %s (%s)', (sample, _what, host, options, expected) => {
    check(host, sampleJobResult(sample)[host], options, expected);
  });
});

describe('normaliseHostReturn on a plain command that exited non-zero', () => {
  // cmd.run returns only its output text; with full_return (030) or from the job cache (085) the job
  // retcode IS the command's exit code. The command ran: that is NONZERO_EXIT, and the message must say
  // the code (FUNCTION_ERROR means salt could not run the function at all).
  it('reports sample 030 (cmd.run "exit 4", full_return) as NONZERO_EXIT with exit code 4', () => {
    check('minion-a', sampleReturn('030')['minion-a'], {}, { ok: false, error: 'NONZERO_EXIT', retcode: 4, says: 'code 4' });
  });

  it('reports sample 085 (cmd.run exit 5 read from the job cache) as NONZERO_EXIT with exit code 5 on every host', () => {
    for (const host of ['127.0.0.1', 'minion-a', 'minion-b']) {
      check(host, sampleJobResult('085')[host], {}, { ok: false, error: 'NONZERO_EXIT', retcode: 5, says: 'code 5' });
    }
  });
});

describe('normaliseHostReturn on edge values', () => {
  it.each<[string, unknown, Expected]>([
    ['a host absent from the answer', undefined, { ok: false, error: 'NO_RETURN', retcode: null }],
    ['a bare false', false, { ok: false, error: 'NO_RETURN' }],
    ['a full_return whose ret is false, retcode 0 (test.ping false is still an answer)', { ret: false, retcode: 0 }, { ok: true, retcode: 0 }],
    ['a "Passed invalid arguments" string', 'Passed invalid arguments: unexpected keyword argument', { ok: false, error: 'FUNCTION_ERROR' }],
    ['a dict return from grains', { os: 'Debian' }, { ok: true, retcode: 0 }],
    ['a succeeded state', { 'file_|-x_|-/x_|-managed': { result: true, comment: 'ok' } }, { ok: true }],
    ['a dry-run state (result null)', { 'file_|-x_|-/x_|-managed': { result: null, comment: 'would change' } }, { ok: true }],
    ['a cmd.run_all return with a string retcode', { retcode: '2', stdout: '', stderr: 'x' }, { ok: false, error: 'NONZERO_EXIT', retcode: 2 }],
    ['stderr trimmed by salt', { retcode: 0, stdout: 'ok', stderr: 'VALUE_TRIMMED' }, { ok: false, error: 'TRIMMED' }],
  ])('handles %s', (_name, value, expected) => {
    check('10.0.0.5', value, {}, expected);
  });

  it('accepts a dict where expectObject is set', () => {
    expect(normaliseHostReturn('h', { os: 'Debian' }, { expectObject: true }).ok).toBe(true);
  });

  it('keeps the raw return of a command for callers that need more than stdout', () => {
    const result = normaliseHostReturn('minion-a', sampleReturn('031')['minion-a']);
    expect(result.ret).toMatchObject({ pid: 29076, retcode: 3 });
  });

  it('does not report a timed-out-looking stdout as TIMEOUT when the command exited 0', () => {
    const result = normaliseHostReturn('h', { retcode: 0, stdout: 'log line: Timed out after 5 seconds', stderr: '' });
    expect(result.ok).toBe(true);
  });
});

describe('normaliseLocalReturn', () => {
  it('returns one result per target in target order, whatever the order of the answer', () => {
    const targets = ['minion-b', '127.0.0.1', 'offline-minion', 'minion-a'];
    const results = normaliseLocalReturn(targets, sampleReturn('117'));
    expect(results.map((r) => r.host)).toEqual(targets);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
  });

  it('marks targeted hosts that are absent from the answer NO_RETURN', () => {
    const results = normaliseLocalReturn(['minion-a', 'never-heard-of'], sampleReturn('027'));
    expect(results[0]).toMatchObject({ host: 'minion-a', ok: true });
    expect(results[1]).toMatchObject({ host: 'never-heard-of', ok: false, error: 'NO_RETURN', retcode: null });
  });

  it('marks every host NO_RETURN when salt matched no minion at all', () => {
    const results = normaliseLocalReturn(['a', 'b'], sampleReturn('022'));
    expect(results.map((r) => r.error)).toEqual(['NO_RETURN', 'NO_RETURN']);
  });

  it.each([
    ['a string', 'An unexpected error occurred'],
    ['null', null],
    ['an array', [1, 2]],
  ])('marks every host NO_RETURN when the element is %s', (_name, element) => {
    expect(normaliseLocalReturn(['a'], element).map((r) => r.error)).toEqual(['NO_RETURN']);
  });

  it('ignores hosts in the answer that were not targeted', () => {
    expect(normaliseLocalReturn(['minion-a'], sampleReturn('020')).map((r) => r.host)).toEqual(['minion-a']);
  });

  it('returns a host targeted twice once', () => {
    expect(normaliseLocalReturn(['minion-a', 'minion-a'], sampleReturn('020'))).toHaveLength(1);
  });

  it('passes expectObject to every host', () => {
    const results = normaliseLocalReturn(['minion-a'], sampleReturn('025'), { expectObject: true });
    expect(results[0]!.error).toBe('BAD_SHAPE');
  });
});

describe('summariseSaltError', () => {
  it.each([
    [
      'the last line of a traceback',
      'The minion function caused an exception: Traceback (most recent call last):\n  File "x"\nValueError: bad',
      'ValueError: bad',
    ],
    ['the first line of a plain error', "'test.nope' is not available.\nmore", "'test.nope' is not available."],
    ['a placeholder for an empty text', '\n  \n', 'empty error'],
  ])('gives %s', (_name, text, expected) => {
    expect(summariseSaltError(text)).toBe(expected);
  });

  it('cuts a very long line to 500 characters', () => {
    expect(summariseSaltError('x'.repeat(2000))).toHaveLength(500);
  });
});
