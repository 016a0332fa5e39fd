/**
 * The router behind the one Function URL, given a Function URL event (payload 2.0) as deployed (AUTH_MODE=jwt,
 * its environment read on the first call), runs a host script that takes longer than API Gateway's 30 s on a
 * stack minion and returns the whole WeCube envelope: the reason the router exists.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { SignJWT } from 'jose';
import { functionUrlEvent } from '../support/function-url-event.js';
import { scratchDir } from '../support/host-script.js';
import { stackEnv } from '../support/stack.js';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const key = new Uint8Array(randomBytes(64));
const token = () =>
  new SignJWT({ authority: ['SUB_SYSTEM'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('SYS_PLATFORM').setExpirationTime('5m').sign(key);

/** A Lambda context with the router's 900 s: middy aborts the handler's signal shortly before it ends. */
function lambdaContext(timeoutMs = 900_000): Context {
  const deadline = Date.now() + timeoutMs;
  return { awsRequestId: `router-it-${Date.now()}`, functionName: 'router', getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
}

describe('the router over the stack (Function URL event, AUTH_MODE=jwt)', () => {
  const saved = { ...process.env };
  let handler: Handler;
  let dir: string;

  beforeAll(async () => {
    Object.assign(process.env, stackEnv(), { STAGE: 'local', AUTH_MODE: 'jwt', JWT_SIGNING_KEY: Buffer.from(key).toString('base64'), LOG_LEVEL: 'error' });
    ({ handler } = (await import('../../functions/router.js')) as { handler: Handler });
    dir = scratchDir('router-it');
  });
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs host-script/run for longer than 30 s on 127.0.0.1 and returns the full envelope', async () => {
    const marker = `${dir}/finished-at`;
    const item = {
      guid: 'long-1',
      callbackParameter: 'cb-long',
      target: '127.0.0.1',
      endpointType: 'USER_PARAM',
      runAs: 'root',
      // the script's own kill timeout (SCRIPT_TIMEOUT_S is 600 by default): stated so that 32 s fits whatever the config
      timeout: 60,
      scriptContent: `sleep 32\ndate +%s > ${marker}\necho done`,
    };
    const started = Date.now();
    const res = await handler(
      functionUrlEvent({
        method: 'POST',
        path: '/saltstack/v1/host-script/run',
        body: { inputs: [item] },
        headers: { authorization: `Bearer ${await token()}` },
      }),
      lambdaContext(),
    );
    const elapsedMs = Date.now() - started;

    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body!) as Record<string, any>;
    expect(body).toEqual({
      resultCode: '0',
      resultMessage: 'success',
      results: {
        outputs: [expect.objectContaining({ guid: 'long-1', callbackParameter: 'cb-long', target: '127.0.0.1', retCode: 0, errorCode: '0', errorMessage: '' })],
      },
    });
    expect(body['results']['outputs'][0]['detail']).toContain('done');
    expect(elapsedMs).toBeGreaterThan(30_000);
    // on the host: the script ran its whole sleep before writing the marker
    const finishedAt = Number(readFileSync(marker, 'utf8').trim()) * 1000;
    expect(finishedAt - started).toBeGreaterThanOrEqual(31_000);
  }, 90_000);

  it('refuses the same call without a token (401) and runs nothing on the host', async () => {
    const marker = `${dir}/unauthenticated`;
    const item = { guid: 'no-token', target: '127.0.0.1', endpointType: 'USER_PARAM', runAs: 'root', scriptContent: `touch ${marker}` };
    const res = await handler(functionUrlEvent({ method: 'POST', path: '/v1/deploy/script/run', body: { inputs: [item] } }), lambdaContext());
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body!)).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(() => readFileSync(marker)).toThrow();
  });
});
