import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../lib/config.js';
import { createRuntime } from '../../lib/runtime.js';
import { captureLogger } from './helpers.js';

describe('createRuntime', () => {
  it('registers SALT_API_PASSWORD for redaction before anything logs', () => {
    const { logger, lines } = captureLogger();
    createRuntime(loadConfig({ AUTH_MODE: 'off', SALT_API_PASSWORD: 'salt-api-pw-77' }), logger);
    logger.error('login failed', { detail: 'curl -d password=salt-api-pw-77' });
    expect(lines[0]).not.toContain('salt-api-pw-77');
  });

  it('builds the salt client lazily, once per container', () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off', SALT_API_URL: 'http://127.0.0.1:1' }), captureLogger().logger);
    const first = runtime.salt();
    expect(runtime.salt()).toBe(first);
  });
});
