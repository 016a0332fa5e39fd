import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { errors as joseErrors, jwtVerify } from 'jose';
import { AuthError } from '../errors.js';
import { hmacAlgorithmsFor, MIN_JWT_KEY_BYTES } from '../crypto/hmac-key-size.js';

const REQUIRED_ROLE = 'SUB_SYSTEM';

/** Reads the `authority` claim in both forms WeCube emits: `["A","B"]` and `"[A, B]"`, trimmed. */
export function parseAuthorities(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map((r) => String(r).trim()).filter(Boolean);
  if (typeof claim !== 'string') return [];
  return claim
    .trim()
    .replace(/^\[/, '')
    .replace(/\]$/, '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}

/**
 * Verifies a WeCube platform token (HMAC, `exp` required, SUB_SYSTEM role). Throws AuthError with the
 * reason; callers answer `Token illegal` without echoing it.
 */
export async function verifyPlatformToken(authorization: string | undefined, key: Uint8Array): Promise<{ sub?: string }> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new AuthError('missing or malformed Authorization header');
  // The token's `alg` header picks the hash; only those the key is long enough for are accepted, so a
  // 32-byte key verifies HS256 tokens and refuses HS512 ones (ERR_JOSE_ALG_NOT_ALLOWED) rather than
  // running HMAC-SHA512 with a key shorter than its hash.
  const algorithms = hmacAlgorithmsFor(key.length);
  if (algorithms.length === 0) throw new AuthError(`signing key of ${key.length} bytes is too short for any HMAC algorithm`);
  let payload;
  try {
    ({ payload } = await jwtVerify(match[1]!, key, { algorithms, requiredClaims: ['exp'] }));
  } catch (error) {
    const reason = error instanceof joseErrors.JOSEError ? error.code : 'invalid token';
    throw new AuthError(`token rejected: ${reason}`);
  }
  if (!parseAuthorities(payload['authority']).includes(REQUIRED_ROLE)) {
    throw new AuthError(`token lacks the ${REQUIRED_ROLE} authority`);
  }
  return payload.sub === undefined ? {} : { sub: payload.sub };
}

/** middy middleware: rejects the request before the handler runs unless the bearer token verifies. */
export function jwtAuth(options: { key: Uint8Array }): MiddlewareObj<APIGatewayProxyEventV2> {
  if (options.key.length < MIN_JWT_KEY_BYTES) throw new AuthError(`jwtAuth needs a signing key of at least ${MIN_JWT_KEY_BYTES} bytes`);
  return {
    before: async (request) => {
      const headers = request.event.headers ?? {};
      await verifyPlatformToken(headers['authorization'] ?? headers['Authorization'], options.key);
    },
  };
}
