import { describe, expect, it } from '@jest/globals';
import { createLogger, type LogLevel } from '../../../lib/log/logger.js';
import { captureLogger } from '../helpers.js';

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Logger', () => {
  it('writes one JSON line with time, level, message and data', () => {
    const { logger, lines } = captureLogger();
    logger.info('request done', { items: 3 });
    expect(lines).toHaveLength(1);
    const [entry] = parse(lines);
    expect(entry).toMatchObject({ level: 'info', message: 'request done', items: 3 });
    expect(new Date(String(entry!['time'])).toISOString()).toBe(entry!['time']);
  });

  it('keeps child keys on every line of the child and of its children, not on the parent', () => {
    const { logger, lines } = captureLogger();
    const child = logger.child({ requestId: 'r-1' });
    const grandchild = child.child({ guid: 'g-1' });
    child.info('one');
    grandchild.warn('two', { jid: '2026' });
    logger.info('three');
    const [one, two, three] = parse(lines);
    expect(one).toMatchObject({ requestId: 'r-1', message: 'one' });
    expect(one).not.toHaveProperty('guid');
    expect(two).toMatchObject({ requestId: 'r-1', guid: 'g-1', jid: '2026', message: 'two' });
    expect(three).not.toHaveProperty('requestId');
  });

  it('lets a child key be overridden by a grandchild', () => {
    const { logger, lines } = captureLogger();
    logger.child({ guid: 'a' }).child({ guid: 'b' }).info('x');
    expect(parse(lines)[0]!['guid']).toBe('b');
  });

  it.each<[LogLevel, string[]]>([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ])('at level %s writes only %j', (level, expected) => {
    const lines: string[] = [];
    const logger = createLogger(level, (l) => lines.push(l));
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(parse(lines).map((e) => e['level'])).toEqual(expected);
  });

  it('filters by level in children too', () => {
    const lines: string[] = [];
    createLogger('warn', (l) => lines.push(l))
      .child({ requestId: 'r' })
      .info('dropped');
    expect(lines).toHaveLength(0);
  });

  it('redacts secret keys and registered values, including ones registered through a child', () => {
    const { logger, lines } = captureLogger();
    const child = logger.child({ requestId: 'r' });
    child.redactor.register('decrypted-pw-9');
    logger.info('login', { password: 'pw', SALT_API_PASSWORD: 'pw2', detail: 'sent decrypted-pw-9 to host' });
    const text = lines.join('\n');
    expect(text).not.toContain('decrypted-pw-9');
    expect(parse(lines)[0]).toMatchObject({ password: '[redacted]', SALT_API_PASSWORD: '[redacted]', detail: 'sent [redacted] to host' });
  });

  it('redacts a registered value inside the message itself', () => {
    const { logger, lines } = captureLogger();
    logger.redactor.register('leaky-secret');
    logger.error('failed with leaky-secret');
    expect(parse(lines)[0]!['message']).toBe('failed with [redacted]');
  });

  it('reduces errors in data to name, message and code', () => {
    const { logger, lines } = captureLogger();
    const error = Object.assign(new Error('boom'), { code: 'E_X', options: { headers: { authorization: 'Bearer t0k3n-value' } } });
    logger.error('failed', { error });
    expect(parse(lines)[0]!['error']).toEqual({ name: 'Error', message: 'boom', code: 'E_X' });
    expect(lines[0]).not.toContain('t0k3n-value');
    expect(lines[0]).not.toContain('stack');
  });
});
