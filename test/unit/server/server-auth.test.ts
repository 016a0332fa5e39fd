import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { checkServerAuth } from '../../../lib/server/server-auth.js';

const KEY = Buffer.alloc(64, 7).toString('base64');

describe('checkServerAuth', () => {
  it('accepts AUTH_MODE=jwt (the default) without a warning', () => {
    expect(checkServerAuth(loadConfig({ JWT_SIGNING_KEY: KEY }))).toBeUndefined();
  });

  it('refuses AUTH_MODE=off, naming the variables that would change it', () => {
    const config = loadConfig({ AUTH_MODE: 'off' });
    expect(() => checkServerAuth(config)).toThrow(ConfigError);
    expect(() => checkServerAuth(config)).toThrow(
      /^AUTH_MODE=off: the server refuses to start without authentication.*AUTH_MODE=jwt with JWT_SIGNING_KEY.*SERVER_INSECURE_ALLOW_NO_AUTH=true/,
    );
  });

  it.each([['false'], ['no'], ['']])('still refuses with SERVER_INSECURE_ALLOW_NO_AUTH=%j', (value) => {
    expect(() => checkServerAuth(loadConfig({ AUTH_MODE: 'off', SERVER_INSECURE_ALLOW_NO_AUTH: value }))).toThrow(ConfigError);
  });

  it('runs without auth only with the override, and returns a loud warning', () => {
    expect(checkServerAuth(loadConfig({ AUTH_MODE: 'off', SERVER_INSECURE_ALLOW_NO_AUTH: 'true' }))).toMatch(/NO AUTHENTICATION/);
  });

  it('gets no further than the config on another stage: AUTH_MODE=off is refused there whatever the override', () => {
    expect(() => loadConfig({ AUTH_MODE: 'off', STAGE: 'prod', SERVER_INSECURE_ALLOW_NO_AUTH: 'true' })).toThrow(
      /AUTH_MODE=off is only allowed when STAGE=local/,
    );
  });
});

describe('server settings', () => {
  it('listens on 0.0.0.0:8082 by default, with a 25 s shutdown grace', () => {
    expect(loadConfig({ JWT_SIGNING_KEY: KEY }).server).toEqual({ host: '0.0.0.0', port: 8082, shutdownGraceS: 25, insecureAllowNoAuth: false });
  });

  it.each([
    ['SERVER_PORT', '70000', 'SERVER_PORT: must be a TCP port (1-65535), got "70000"'],
    ['SERVER_SHUTDOWN_GRACE_S', '-1', 'SERVER_SHUTDOWN_GRACE_S: must be an integer >= 0, got "-1"'],
    ['SERVER_INSECURE_ALLOW_NO_AUTH', 'sure', 'SERVER_INSECURE_ALLOW_NO_AUTH: "sure" is not a boolean (true/false/yes/no/1/0/on/off)'],
  ])('refuses %s=%j', (name, value, message) => {
    expect(() => loadConfig({ JWT_SIGNING_KEY: KEY, [name]: value })).toThrow(message);
  });

  it('reads SERVER_HOST and SERVER_PORT', () => {
    expect(loadConfig({ JWT_SIGNING_KEY: KEY, SERVER_HOST: '127.0.0.1', SERVER_PORT: '18082' }).server).toMatchObject({ host: '127.0.0.1', port: 18082 });
  });
});
