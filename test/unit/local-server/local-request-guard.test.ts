import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../lib/errors.js';
import {
  acceptedHosts,
  checkContentType,
  checkHost,
  checkOrigin,
  guardLocalRequest,
  parseAllowedHosts,
  parseAllowedOrigins,
} from '../../../scripts/lib/local-request-guard.js';
import { hookSecretMatches, newHookSecret } from '../../../scripts/lib/s3-hook-secret.js';

const hosts = acceptedHosts({ port: 8082, allowedHosts: [] });

describe('checkHost (DNS rebinding)', () => {
  it.each([['127.0.0.1:8082'], ['localhost:8082'], ['LOCALHOST:8082'], ['[::1]:8082']])('accepts %s', (host) => {
    expect(checkHost(host, hosts)).toBeUndefined();
  });

  it.each([
    ['a rebound name', 'evil.example:8082'],
    ['a rebound name without port', 'evil.example'],
    ['loopback on another port', '127.0.0.1:9999'],
    ['loopback without the port', '127.0.0.1'],
    ['localhost without the port', 'localhost'],
    ['a suffix trick', 'localhost:8082.evil.example'],
    ['another loopback address', '127.0.0.2:8082'],
    ['0.0.0.0', '0.0.0.0:8082'],
    ['an empty Host', ''],
    ['no Host', undefined],
  ])('refuses %s with 421', (_name, host) => {
    const refusal = checkHost(host, hosts);
    expect(refusal?.status).toBe(421);
    expect(refusal?.message).toMatch(/Host/);
  });

  it('accepts the names of LOCAL_ALLOWED_HOSTS, with the server port unless the entry has one', () => {
    const extra = acceptedHosts({ port: 8082, allowedHosts: parseAllowedHosts('devbox.local, proxy.test:443') });
    expect(checkHost('devbox.local:8082', extra)).toBeUndefined();
    expect(checkHost('proxy.test:443', extra)).toBeUndefined();
    expect(checkHost('devbox.local:9000', extra)?.status).toBe(421);
    expect(checkHost('proxy.test:8082', extra)?.status).toBe(421);
  });

  it('accepts a Host without port when the server is on port 80 (clients leave the default out)', () => {
    const on80 = acceptedHosts({ port: 80, allowedHosts: [] });
    expect(checkHost('localhost', on80)).toBeUndefined();
    expect(checkHost('127.0.0.1:80', on80)).toBeUndefined();
  });

  it('names the Host it refused and where to allow one', () => {
    expect(checkHost('evil.example:8082', hosts)?.message).toBe(
      'Host "evil.example:8082" is not this local server (it answers to 127.0.0.1:8082, localhost:8082, [::1]:8082; add a name to LOCAL_ALLOWED_HOSTS)',
    );
  });
});

describe('checkOrigin (requests from web pages)', () => {
  const allowed = ['http://localhost:3000'];
  it.each<[string, IncomingHttpHeaders]>([
    ['no Origin, no Sec-Fetch-Site (curl, SDKs)', {}],
    ['an allowed Origin', { origin: 'http://localhost:3000' }],
    ['an allowed Origin with Sec-Fetch-Site same-site', { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' }],
    ['Sec-Fetch-Site none (typed in the address bar)', { 'sec-fetch-site': 'none' }],
    ['Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin' }],
  ])('accepts %s', (_name, headers) => {
    expect(checkOrigin(headers, allowed)).toBeUndefined();
  });

  it.each<[string, IncomingHttpHeaders]>([
    ['a foreign Origin', { origin: 'http://evil.example' }],
    ['a foreign Origin with Sec-Fetch-Site cross-site', { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['Origin null (sandboxed frame, file://)', { origin: 'null' }],
    ['another port of localhost', { origin: 'http://localhost:8081' }],
    ['the allowed origin on another scheme', { origin: 'https://localhost:3000' }],
    ['the allowed origin with a path appended', { origin: 'http://localhost:3000/x' }],
    ['an empty Origin', { origin: '' }],
    ['Sec-Fetch-Site cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site without Origin', { 'sec-fetch-site': 'same-site' }],
    ['Sec-Fetch-Site in capitals', { 'sec-fetch-site': 'Cross-Site' }],
  ])('refuses %s with 403', (_name, headers) => {
    expect(checkOrigin(headers, allowed)?.status).toBe(403);
  });

  it('refuses every Origin by default (empty allow-list)', () => {
    expect(checkOrigin({ origin: 'http://localhost:3000' }, [])?.message).toBe(
      'Origin "http://localhost:3000" is not allowed: the local server refuses requests from web pages (allow an origin with LOCAL_ALLOWED_ORIGINS)',
    );
  });
});

describe('checkContentType', () => {
  it.each([
    ['application/json'],
    ['application/json; charset=utf-8'],
    ['Application/JSON;charset=UTF-8'],
    ['application/json; charset="utf-8"'],
    ['application/json; charset=utf8'],
  ])('accepts %s', (type) => {
    expect(checkContentType('POST', type)).toBeUndefined();
  });

  it.each([
    ['text/plain (a browser no-cors POST)', 'text/plain'],
    ['text/plain;charset=UTF-8', 'text/plain;charset=UTF-8'],
    ['a form (curl -d, an HTML form)', 'application/x-www-form-urlencoded'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['a JSON suffix type', 'application/vnd.api+json'],
    ['a prefix trick', 'application/jsonx'],
    ['a text/plain carrying a json parameter', 'text/plain; application/json'],
    ['a non-UTF-8 charset', 'application/json; charset=iso-8859-1'],
    ['an empty Content-Type', ''],
    ['no Content-Type', undefined],
  ])('refuses %s with 415', (_name, type) => {
    const refusal = checkContentType('POST', type);
    expect(refusal?.status).toBe(415);
    expect(refusal?.message).toContain('Content-Type: application/json');
  });

  it.each(['GET', 'OPTIONS', 'HEAD'])('leaves a %s alone (no body is run)', (method) => {
    expect(checkContentType(method, undefined)).toBeUndefined();
  });
});

describe('guardLocalRequest', () => {
  const policy = { acceptedHosts: hosts, allowedOrigins: [] };
  const curl = { host: '127.0.0.1:8082', 'content-type': 'application/json' };
  it.each<[string, number | undefined, IncomingHttpHeaders]>([
    ['a curl-like JSON POST', undefined, curl],
    ['a browser cross-site text/plain POST', 403, { ...curl, origin: 'http://evil.example', 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' }],
    ['a DNS-rebound page (its own name in Host, same-origin to itself)', 421, { ...curl, host: 'evil.example:8082', 'sec-fetch-site': 'same-origin' }],
    ['a form POST from curl -d', 415, { ...curl, 'content-type': 'application/x-www-form-urlencoded' }],
  ])('answers %s with refusal status %p', (_name, status, headers) => {
    expect(guardLocalRequest({ method: 'POST', headers }, policy)?.status).toBe(status);
  });

  it('checks Host before Origin and Origin before Content-Type', () => {
    const all = { host: 'evil.example', origin: 'http://evil.example', 'content-type': 'text/plain' };
    expect(guardLocalRequest({ method: 'POST', headers: all }, policy)?.status).toBe(421);
    expect(guardLocalRequest({ method: 'POST', headers: { ...all, host: '127.0.0.1:8082' } }, policy)?.status).toBe(403);
  });
});

describe('parseAllowedOrigins / parseAllowedHosts', () => {
  it('reads a comma-separated list, normalising a trailing slash and case', () => {
    expect(parseAllowedOrigins(' http://localhost:3000/, HTTPS://Console.Example ')).toEqual(['http://localhost:3000', 'https://console.example']);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins('')).toEqual([]);
    expect(parseAllowedHosts('DevBox.local, [::1]:9000')).toEqual(['devbox.local', '[::1]:9000']);
  });

  it.each([['*'], ['null'], ['localhost:3000'], ['http://localhost:3000/app'], ['ftp://x.example'], ['http://*.example']])(
    'refuses the origin entry %j with a ConfigError naming LOCAL_ALLOWED_ORIGINS',
    (entry) => {
      expect(() => parseAllowedOrigins(`http://ok.example,${entry}`)).toThrow(ConfigError);
      expect(() => parseAllowedOrigins(entry)).toThrow(/^LOCAL_ALLOWED_ORIGINS: /);
    },
  );

  it.each([['*'], ['http://x.example'], ['x.example:99999'], ['x.example/path'], ['-x.example']])(
    'refuses the host entry %j with a ConfigError naming LOCAL_ALLOWED_HOSTS',
    (entry) => {
      expect(() => parseAllowedHosts(entry)).toThrow(ConfigError);
      expect(() => parseAllowedHosts(entry)).toThrow(/^LOCAL_ALLOWED_HOSTS: /);
    },
  );
});

describe('S3 hook secret', () => {
  it('makes 32 hex characters, different on every start', () => {
    const a = newHookSecret();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newHookSecret()).not.toBe(a);
  });

  it.each([
    ['the exact secret', (s: string) => s, true],
    ['nothing', () => '', false],
    ['a prefix', (s: string) => s.slice(0, 31), false],
    ['the secret with a suffix', (s: string) => `${s}0`, false],
    ['the secret in capitals', (s: string) => s.toUpperCase(), false],
    ['another secret', () => newHookSecret(), false],
  ])('matches %s: %s', (_name, given, expected) => {
    const secret = newHookSecret();
    expect(hookSecretMatches(given(secret), secret)).toBe(expected);
  });

  it('matches nothing when no secret is set', () => {
    expect(hookSecretMatches('', '')).toBe(false);
  });
});
