import { describe, expect, it } from '@jest/globals';
import { Redactor } from '../../../lib/log/redactor.js';

describe('Redactor key-name redaction', () => {
  it.each([
    'password',
    'Password',
    'SALT_API_PASSWORD',
    'DEFAULT_S3_PASSWORD',
    'passwd',
    'newPassword',
    'token',
    'x-auth-token',
    'accessToken',
    'authorization',
    'Authorization',
    'cookie',
    'set-cookie',
    'secret',
    'JWT_SECRET',
    'privateKey',
    'private_key',
    'seed',
    'ENCRYPT_SEED',
    'credentials',
    'apiKey',
    'api_key',
  ])('masks the value under %s', (key) => {
    expect(new Redactor().redact({ [key]: 'v4lue-that-leaks', keep: 'visible' })).toEqual({ [key]: '[redacted]', keep: 'visible' });
  });

  it.each(['host', 'user', 'username', 'guid', 'jid', 'fun', 'target', 'keyName'])('keeps the value under %s', (key) => {
    expect(new Redactor().redact({ [key]: 'ordinary' })).toEqual({ [key]: 'ordinary' });
  });

  it('masks secret keys at any depth, inside arrays too', () => {
    const out = new Redactor().redact({
      request: { headers: { authorization: 'Bearer abc.def.ghi', accept: 'json' } },
      chunks: [{ client: 'local', password: 'x1x2x3' }],
    });
    expect(out).toEqual({
      request: { headers: { authorization: '[redacted]', accept: 'json' } },
      chunks: [{ client: 'local', password: '[redacted]' }],
    });
  });

  it('masks a non-string value under a secret key (an object, a number)', () => {
    expect(new Redactor().redact({ token: { value: 'abc' }, seed: 12345 })).toEqual({ token: '[redacted]', seed: '[redacted]' });
  });
});

describe('Redactor value redaction', () => {
  it('masks a registered secret inside a longer string, every time it appears', () => {
    const r = new Redactor();
    r.register('hunter2-pass');
    expect(r.redact('useradd -p hunter2-pass app; echo hunter2-pass')).toBe('useradd -p [redacted] app; echo [redacted]');
  });

  it('masks registered secrets in nested values and arrays under ordinary keys', () => {
    const r = new Redactor();
    r.register('tok-123456');
    r.register('Pa55word!');
    expect(r.redact({ detail: { stderr: ['auth tok-123456 failed', 'pw Pa55word! bad'] }, n: 3, ok: true, none: null })).toEqual({
      detail: { stderr: ['auth [redacted] failed', 'pw [redacted] bad'] },
      n: 3,
      ok: true,
      none: null,
    });
  });

  it('masks a registered secret inside an Error message', () => {
    const r = new Redactor();
    r.register('s3cr3t-value');
    expect(r.redact(new Error('login with s3cr3t-value refused'))).toMatchObject({ message: 'login with [redacted] refused' });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
    ['a 3-character string', 'abc'],
  ])('ignores %s as a secret (it would mask ordinary text)', (_name, value) => {
    const r = new Redactor();
    r.register(value);
    expect(r.redact('abc and more abc text')).toBe('abc and more abc text');
  });

  it('masks a registered secret that appears in an object key (salt state ids embed the command line)', () => {
    const r = new Redactor();
    r.register('Pa55-in-cmd');
    // A state.single cmd.run return is keyed `cmd_|-<id>_|-<name>_|-run`, and <name> is the command itself.
    const ret = { 'cmd_|-rotate_|-/opt/app/bin/rotate --user app --new Pa55-in-cmd_|-run': { result: false, comment: 'Command failed' } };
    expect(JSON.stringify(r.redact({ ret }))).not.toContain('Pa55-in-cmd');
  });

  it('leaves strings without a registered secret alone', () => {
    const r = new Redactor();
    r.register('something-else');
    expect(r.redact('plain text')).toBe('plain text');
  });
});

describe('Redactor and Error objects', () => {
  it('reduces an Error to name, message and code: no stack, no extra properties', () => {
    const error = Object.assign(new Error('Request failed with status code 401'), {
      code: 'ERR_NON_2XX',
      options: { headers: { 'x-auth-token': 'abcdef0123456789', cookie: 'session_id=abc' }, json: { password: 'pw-in-body' } },
      response: { body: 'token abcdef0123456789' },
    });
    const out = new Redactor().redact({ error }) as { error: Record<string, unknown> };
    expect(out.error).toEqual({ name: 'Error', message: 'Request failed with status code 401', code: 'ERR_NON_2XX' });
    const text = JSON.stringify(out);
    expect(text).not.toContain('abcdef0123456789');
    expect(text).not.toContain('pw-in-body');
    expect(text).not.toContain('stack');
  });

  it('keeps the name of an Error subclass', () => {
    class GotLikeError extends Error {
      override readonly name = 'RequestError';
    }
    expect(new Redactor().redact(new GotLikeError('boom'))).toEqual({ name: 'RequestError', message: 'boom', code: undefined });
  });
});

describe('Redactor limits', () => {
  it('stops at a depth limit instead of recursing forever', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    expect(JSON.stringify(new Redactor().redact(deep))).toContain('[depth]');
  });

  it('returns numbers, booleans and null as they are', () => {
    const r = new Redactor();
    expect([r.redact(1), r.redact(false), r.redact(null), r.redact(undefined)]).toEqual([1, false, null, undefined]);
  });
});
