import { describe, expect, it } from '@jest/globals';
import { DatabaseError, DatabaseUnavailableError } from '../../../lib/errors.js';
import { toDatabaseError } from '../../../lib/mysql/mysql-session.js';
import { toRedisError } from '../../../lib/redis/redis-session.js';
import { describeTlsFailure } from '../../../lib/tls/tls-failure.js';

const err = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('describeTlsFailure', () => {
  it.each([
    // Node's own codes (node-redis keeps them)
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', 'the server certificate is not trusted (check X_CA)'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate', 'the server certificate is not trusted (check X_CA)'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'the server certificate is not trusted (check X_CA)'],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list: 10.0.0.1",
      'not valid for this host name or address',
    ],
    ['CERT_HAS_EXPIRED', 'certificate has expired', 'TLS handshake failed: certificate has expired (CERT_HAS_EXPIRED)'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', 'the server did not answer in TLS'],
    // mysql2 replaces the code by HANDSHAKE_SSL_ERROR: the message decides
    ['HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain', 'the server certificate is not trusted (check X_CA)'],
    [
      'HANDSHAKE_SSL_ERROR',
      "Hostname/IP does not match certificate's altnames: Host: db. is not in the cert's altnames",
      'not valid for this host name or address',
    ],
    ['HANDSHAKE_SSL_ERROR', 'some other handshake failure', 'TLS handshake failed: some other handshake failure (HANDSHAKE_SSL_ERROR)'],
    ['HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection', 'TLS required but the server does not offer TLS'],
  ])('%s (%s) -> %s', (code, message, text) => {
    expect(describeTlsFailure(err(code, message), 'X_CA')).toContain(text);
  });

  it.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306'],
    ['ER_ACCESS_DENIED_ERROR', 'Access denied'],
    ['ETIMEDOUT', 'connect ETIMEDOUT'],
  ])('is undefined for %s (not TLS)', (code, message) => {
    expect(describeTlsFailure(err(code, message), 'X_CA')).toBeUndefined();
  });

  it('is undefined for non-errors', () => {
    expect(describeTlsFailure(undefined, 'X_CA')).toBeUndefined();
    expect(describeTlsFailure('text', 'X_CA')).toBeUndefined();
  });
});

describe("TLS failures in the drivers' error translation", () => {
  it('mysql: a DatabaseError (not retried) naming host:port, TLS and the CA variable', () => {
    const error = toDatabaseError(err('HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain'), 'db:3306');
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toBe(
      'db:3306: TLS handshake failed: the server certificate is not trusted (check MYSQL_TLS_CA_FILE): self-signed certificate in certificate chain (HANDSHAKE_SSL_ERROR)',
    );
  });

  it('mysql: a server without TLS', () => {
    const error = toDatabaseError(err('HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection'), 'db:3306');
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toBe('db:3306: TLS required but the server does not offer TLS');
  });

  it("redis: a DatabaseError with Node's code", () => {
    const error = toRedisError(err('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'r:6380');
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({ serverCode: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(error.message).toContain('r:6380: TLS handshake failed: the server certificate is not trusted (check REDIS_TLS_CA_FILE)');
  });

  it('redis: a refused connection stays DatabaseUnavailableError', () => {
    expect(toRedisError(err('ECONNREFUSED', 'connect ECONNREFUSED'), 'r:6380')).toBeInstanceOf(DatabaseUnavailableError);
  });
});
