/** Node's certificate verification codes (X509_V_ERR_* as Node names them): the CA does not vouch for the server. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

// mysql2 replaces the code of a failed handshake by HANDSHAKE_SSL_ERROR; only Node's message is left.
const UNTRUSTED_TEXT = /unable to verify|self[- ]signed certificate|unable to get (local )?issuer|certificate signature failure/i;
const NAME_TEXT = /does not match certificate's altnames/i;
const EXPIRED_TEXT = /certificate has expired|certificate is not yet valid/i;
const NOT_TLS_TEXT = /wrong version number|packet length too long|unknown protocol|record layer failure/i;

/**
 * What went wrong in a TLS handshake, as `TLS handshake failed: ...` with the reason and the driver's short
 * message (never a secret: Node and OpenSSL say only what the certificate or the protocol got wrong), or
 * undefined when `error` is not a TLS failure. `caHint` names the CA setting to check.
 */
export function describeTlsFailure(error: unknown, caHint: string): string | undefined {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message.slice(0, 200) : '';
  const detail = message ? `${message}${code ? ` (${code})` : ''}` : code;
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return 'TLS required but the server does not offer TLS';
  if (UNTRUSTED.has(code) || UNTRUSTED_TEXT.test(message)) {
    return `TLS handshake failed: the server certificate is not trusted (check ${caHint}): ${detail}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || NAME_TEXT.test(message)) {
    return `TLS handshake failed: the server certificate is not valid for this host name or address: ${detail}`;
  }
  if (EXPIRED.has(code) || EXPIRED_TEXT.test(message)) return `TLS handshake failed: ${detail}`;
  if (NOT_TLS_TEXT.test(message)) return `TLS handshake failed: the server did not answer in TLS (is this its TLS port?): ${detail}`;
  if (code === 'HANDSHAKE_SSL_ERROR' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS handshake failed: ${detail}`;
  return undefined;
}
