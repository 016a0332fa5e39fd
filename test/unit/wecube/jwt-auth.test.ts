import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SignJWT, type JWTPayload } from 'jose';
import { loadConfig } from '../../../lib/config.js';
import { passwordDecode } from '../../../lib/crypto/password-operations.js';
import { AuthError } from '../../../lib/errors.js';
import { createRuntime } from '../../../lib/runtime.js';
import { makeHttpHandler } from '../../../lib/wecube/http-handler.js';
import { jwtAuth, parseAuthorities, verifyPlatformToken } from '../../../lib/wecube/jwt-auth.js';
import type { Operation } from '../../../lib/wecube/operation.js';
import { captureLogger, httpEvent, lambdaContext } from '../helpers.js';

// 64 bytes: long enough for every HMAC algorithm (HS512 needs its 64-byte hash size).
const key = new Uint8Array(randomBytes(64));
const otherKey = new Uint8Array(randomBytes(64));
const now = () => Math.floor(Date.now() / 1000);

async function token(options: { alg?: 'HS256' | 'HS384' | 'HS512'; claims?: JWTPayload; exp?: number | null; signWith?: Uint8Array } = {}): Promise<string> {
  const jwt = new SignJWT({ authority: ['SUB_SYSTEM'], ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setSubject('SYS_PLATFORM')
    .setIssuedAt();
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 3600);
  return jwt.sign(options.signWith ?? key);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unsignedToken = () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'SYS_PLATFORM', authority: ['SUB_SYSTEM'], exp: now() + 3600 })}.`;

describe('parseAuthorities', () => {
  it.each([
    ['an array', ['ADMIN', 'SUB_SYSTEM'], ['ADMIN', 'SUB_SYSTEM']],
    ['an array with spaces', [' SUB_SYSTEM ', 'ADMIN'], ['SUB_SYSTEM', 'ADMIN']],
    ['an array of one', ['SUB_SYSTEM'], ['SUB_SYSTEM']],
    ['an array with empty entries', ['', 'A', '  '], ['A']],
    ['an array with a non-string', [1, 'A'], ['1', 'A']],
    ['a bracketed string with spaces', '[ADMIN, SUB_SYSTEM]', ['ADMIN', 'SUB_SYSTEM']],
    ['a bracketed string of one', '[SUB_SYSTEM]', ['SUB_SYSTEM']],
    ['a padded bracketed string', '  [ A ,B ]  ', ['A', 'B']],
    ['a bare string', 'SUB_SYSTEM', ['SUB_SYSTEM']],
    ['a comma list without brackets', 'A,B', ['A', 'B']],
    ['an empty bracketed string', '[]', []],
    ['an empty string', '', []],
    ['undefined', undefined, []],
    ['a number', 7, []],
    ['an object', { role: 'SUB_SYSTEM' }, []],
  ])('reads %s', (_name, claim, expected) => {
    expect(parseAuthorities(claim)).toEqual(expected);
  });
});

describe('verifyPlatformToken', () => {
  it.each(['HS256', 'HS384', 'HS512'] as const)('accepts a valid %s token and returns its subject', async (alg) => {
    await expect(verifyPlatformToken(`Bearer ${await token({ alg })}`, key)).resolves.toEqual({ sub: 'SYS_PLATFORM' });
  });

  it.each([
    ['an array ["ADMIN","SUB_SYSTEM"]', ['ADMIN', 'SUB_SYSTEM']],
    ['a string "[ADMIN, SUB_SYSTEM]"', '[ADMIN, SUB_SYSTEM]'],
    ['a string "[SUB_SYSTEM]"', '[SUB_SYSTEM]'],
  ])('accepts the authority claim as %s', async (_name, authority) => {
    await expect(verifyPlatformToken(`Bearer ${await token({ claims: { authority } })}`, key)).resolves.toEqual({ sub: 'SYS_PLATFORM' });
  });

  // The token's alg header picks the hash; a key shorter than that hash refuses the token (RFC 7518 §3.2).
  it.each([
    [32, 'HS256', true],
    [32, 'HS384', false],
    [32, 'HS512', false],
    [47, 'HS384', false],
    [48, 'HS256', true],
    [48, 'HS384', true],
    [48, 'HS512', false],
    [63, 'HS512', false],
    [64, 'HS256', true],
    [64, 'HS384', true],
    [64, 'HS512', true],
  ] as const)('with a %i-byte key, a %s token is accepted: %s', async (bytes, alg, accepted) => {
    const sized = new Uint8Array(randomBytes(bytes));
    const verifying = verifyPlatformToken(`Bearer ${await token({ alg, signWith: sized })}`, sized);
    if (accepted) await expect(verifying).resolves.toEqual({ sub: 'SYS_PLATFORM' });
    else await expect(verifying).rejects.toThrow(new AuthError('token rejected: ERR_JOSE_ALG_NOT_ALLOWED'));
  });

  it("refuses every token when the key is shorter than 32 bytes (upstream's 20-byte default key)", async () => {
    const shortKey = new Uint8Array(Buffer.from('Platform+Auth+Server+Secret', 'base64'));
    expect(shortKey.length).toBe(20);
    const jwt = await token({ alg: 'HS256', signWith: shortKey, claims: { authority: '[SUB_SYSTEM]' } });
    await expect(verifyPlatformToken(`Bearer ${jwt}`, shortKey)).rejects.toBeInstanceOf(AuthError);
  });

  it('accepts a lower-case bearer scheme', async () => {
    await expect(verifyPlatformToken(`bearer ${await token()}`, key)).resolves.toEqual({ sub: 'SYS_PLATFORM' });
  });

  const rejected: Array<[string, () => Promise<string | undefined>]> = [
    ['an expired token', async () => `Bearer ${await token({ exp: now() - 60 })}`],
    ['a token without exp', async () => `Bearer ${await token({ exp: null })}`],
    ['a token not valid before a future time', async () => `Bearer ${await token({ claims: { nbf: now() + 600 } })}`],
    ['a token without the SUB_SYSTEM role', async () => `Bearer ${await token({ claims: { authority: ['ADMIN', 'USER'] } })}`],
    ['a token whose role only contains SUB_SYSTEM as a substring', async () => `Bearer ${await token({ claims: { authority: '[SUB_SYSTEMS]' } })}`],
    ['a token without an authority claim', async () => `Bearer ${await token({ claims: { authority: undefined } })}`],
    ['a token signed with another key', async () => `Bearer ${await token({ signWith: otherKey })}`],
    ['an unsigned token (alg none)', async () => `Bearer ${unsignedToken()}`],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await token({ claims: { authority: ['ADMIN'] } })).split('.');
        return `Bearer ${h}.${b64url({ sub: 'x', authority: ['SUB_SYSTEM'], exp: now() + 3600 })}.${s}`;
      },
    ],
    ['a header that is `Bearer` alone', async () => 'Bearer'],
    ['a header that is `Bearer ` with a space', async () => 'Bearer '],
    ['a token without the Bearer scheme', async () => await token()],
    ['a Basic header', async () => 'Basic dXNlcjpwYXNz'],
    ['garbage', async () => 'Bearer not.a.jwt'],
    ['no header', async () => undefined],
  ];

  it.each(rejected)('rejects %s with AuthError', async (_name, header) => {
    await expect(verifyPlatformToken(await header(), key)).rejects.toBeInstanceOf(AuthError);
  });

  it('says why a token lacks the role without echoing the token', async () => {
    const jwt = await token({ claims: { authority: ['ADMIN'] } });
    const error = await verifyPlatformToken(`Bearer ${jwt}`, key).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe('token lacks the SUB_SYSTEM authority');
  });

  it('says an expired token was rejected without echoing the token', async () => {
    const jwt = await token({ exp: now() - 60 });
    const error = (await verifyPlatformToken(`Bearer ${jwt}`, key).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^token rejected: ERR_JWT_EXPIRED$/);
  });
});

describe('jwtAuth', () => {
  it.each([0, 20, 31])('refuses to build with a %i-byte key', (bytes) => {
    expect(() => jwtAuth({ key: new Uint8Array(bytes) })).toThrow(AuthError);
  });

  it('builds with a 32-byte key', () => {
    expect(jwtAuth({ key: new Uint8Array(32) })).toHaveProperty('before');
  });
});

describe('the JWT middleware in makeHttpHandler', () => {
  const TOKEN_ILLEGAL = '{"resultCode":"1","resultMessage":"Token illegal","results":null}';
  const path = '/saltstack/v1/password/decode';
  const body = JSON.stringify({ inputs: [{ guid: '1234', seed: 'abc12345', password: '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9' }] });
  let handler: ReturnType<typeof makeHttpHandler>;
  let lines: string[];

  beforeAll(() => {
    const captured = captureLogger();
    lines = captured.lines;
    const config = loadConfig({ AUTH_MODE: 'jwt', JWT_SIGNING_KEY: Buffer.from(key).toString('base64'), STAGE: 'dev' });
    const runtime = createRuntime(config, captured.logger);
    handler = makeHttpHandler([passwordDecode(config)] as Operation[], runtime);
  });

  const call = async (headers: Record<string, string>) => (await handler(httpEvent(path, body, headers), lambdaContext())) as APIGatewayProxyStructuredResultV2;

  it.each([
    ['an expired token', async () => ({ authorization: `Bearer ${await token({ exp: now() - 5 })}` })],
    ['a token signed with another key', async () => ({ authorization: `Bearer ${await token({ signWith: otherKey })}` })],
    ['a token without SUB_SYSTEM', async () => ({ authorization: `Bearer ${await token({ claims: { authority: '[ADMIN]' } })}` })],
    ['an unsigned token', async () => ({ authorization: `Bearer ${unsignedToken()}` })],
    ['`Bearer` alone', async () => ({ authorization: 'Bearer' })],
    ['no Authorization header', async () => ({})],
  ])('answers HTTP 401 with the Token illegal envelope for %s', async (_name, headers) => {
    const result = await call(await headers());
    expect(result.statusCode).toBe(401);
    expect(result.body).toBe(TOKEN_ILLEGAL);
  });

  it('answers 200 and runs the operation for a good token', async () => {
    const result = await call({ authorization: `Bearer ${await token({ alg: 'HS512' })}` });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(String(result.body))).toMatchObject({ resultCode: '0', results: { outputs: [{ password: 'qq123456' }] } });
  });

  it('reads a capitalised Authorization header too', async () => {
    const result = await call({ Authorization: `Bearer ${await token()}` });
    expect(result.statusCode).toBe(200);
  });

  it('checks the token before the path: an unknown route without a token is 401, not 404', async () => {
    const result = (await handler(httpEvent('/saltstack/v1/nope/x', body, {}), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(401);
  });

  it('does not log a rejected token', async () => {
    const jwt = await token({ signWith: otherKey });
    lines.length = 0;
    await call({ authorization: `Bearer ${jwt}` });
    expect(lines.length).toBeGreaterThan(0);
    const signature = jwt.split('.')[2]!;
    for (const line of lines) {
      expect(line).not.toContain(signature);
      expect(line).not.toContain(jwt);
    }
  });
});

describe('the JWT middleware with a 32-byte key (enough for HS256 only)', () => {
  const key32 = new Uint8Array(randomBytes(32));
  const path = '/saltstack/v1/password/decode';
  const body = JSON.stringify({ inputs: [{ guid: '1234', seed: 'abc12345', password: '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9' }] });
  let handler: ReturnType<typeof makeHttpHandler>;

  beforeAll(() => {
    const config = loadConfig({ AUTH_MODE: 'jwt', JWT_SIGNING_KEY: Buffer.from(key32).toString('base64'), STAGE: 'dev' });
    handler = makeHttpHandler([passwordDecode(config)] as Operation[], createRuntime(config, captureLogger().logger));
  });

  it.each([
    ['HS256', 200],
    ['HS384', 401],
    ['HS512', 401],
  ] as const)('answers a %s token signed with that key with HTTP %i', async (alg, status) => {
    const jwt = await token({ alg, signWith: key32 });
    const result = (await handler(httpEvent(path, body, { authorization: `Bearer ${jwt}` }), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(status);
    if (status === 401) expect(JSON.parse(String(result.body))).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
    else expect(JSON.parse(String(result.body))).toMatchObject({ resultCode: '0', results: { outputs: [{ password: 'qq123456' }] } });
  });
});
