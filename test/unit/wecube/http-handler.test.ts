import { describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadConfig } from '../../../lib/config.js';
import { InputError } from '../../../lib/errors.js';
import { passwordDecode, passwordEncode } from '../../../lib/crypto/password-operations.js';
import { createRuntime } from '../../../lib/runtime.js';
import { makeHttpHandler, makeTaskHandler, notFound } from '../../../lib/wecube/http-handler.js';
import { defineOperation, type Operation } from '../../../lib/wecube/operation.js';
import { z } from 'zod';
import { captureLogger, httpEvent, lambdaContext } from '../helpers.js';

const ops = [
  { plugin: 'password', action: 'decode' },
  { plugin: 'host-user', action: 'add' },
];

const bodyOf = (result: APIGatewayProxyStructuredResultV2) => JSON.parse(String(result.body)) as Record<string, unknown>;

describe('notFound', () => {
  it.each([
    ['/saltstack/v1/x/y', 'plugin[x] not found'],
    ['/saltstack/v1/password/nope', 'password plugin, action = nope not found'],
    ['/v1/deploy/user/nope', 'host-user plugin, action = nope not found'],
    ['/v1/deploy/nothing/here', 'plugin[nothing] not found'],
  ])('answers 404 for %s with "%s" in the WeCube envelope', (path, message) => {
    const result = notFound(path, ops);
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ resultCode: '1', resultMessage: message, results: null });
  });
});

describe('makeHttpHandler with AUTH_MODE=off', () => {
  const setup = () => {
    const { logger, lines } = captureLogger();
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off' }), logger);
    const handler = makeHttpHandler([passwordDecode(runtime.config), passwordEncode(runtime.config)] as Operation[], runtime);
    return { handler, lines };
  };
  const call = async (path: string, body: string | undefined) =>
    (await setup().handler(httpEvent(path, body), lambdaContext())) as APIGatewayProxyStructuredResultV2;

  it("answers 404 with upstream's text for an unknown plugin", async () => {
    const result = await call('/saltstack/v1/nope/run', '{"inputs":[]}');
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)['resultMessage']).toBe('plugin[nope] not found');
  });

  it("answers 404 with upstream's text for an unknown action of a known plugin", async () => {
    const result = await call('/saltstack/v1/password/sshkeygen', '{"inputs":[]}');
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)['resultMessage']).toBe('password plugin, action = sshkeygen not found');
  });

  it.each([
    ['no body', undefined],
    ['a body that is not JSON', '{inputs'],
    ['a body without inputs', '{"requestId":"1"}'],
  ])('answers 400 with resultCode 1 and null results for %s', async (_name, body) => {
    const result = await call('/saltstack/v1/password/decode', body);
    expect(result.statusCode).toBe(400);
    const parsed = bodyOf(result);
    expect(parsed['resultCode']).toBe('1');
    expect(parsed['results']).toBeNull();
    expect(String(parsed['resultMessage']).length).toBeGreaterThan(0);
  });

  it('answers 200 with one output per input, in order, and names the failed item', async () => {
    const body = JSON.stringify({
      inputs: [
        { guid: '1234', seed: 'abc12345', password: '{cipher_a}251f54c3f5be75e171ae1eb516dbacd9', callbackParameter: 'c1' },
        { guid: 'g2', seed: 'abc12345' },
      ],
    });
    const result = await call('/saltstack/v1/password/decode', body);
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(bodyOf(result)).toEqual({
      resultCode: '1',
      resultMessage: 'item 2 (guid g2): Parameter password can not empty.',
      results: {
        outputs: [
          { guid: '1234', callbackParameter: 'c1', password: 'qq123456', errorCode: '0', errorMessage: '' },
          { guid: 'g2', errorCode: '1', errorMessage: 'Parameter password can not empty.', errorType: 'E_INPUT' },
        ],
      },
    });
  });

  it('serves the legacy /v1/deploy path of an operation', async () => {
    const body = JSON.stringify({ inputs: [{ guid: '1234', seed: 'abc12345', password: 'qq123456' }] });
    const result = await call('/v1/deploy/password/encode', body);
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ resultCode: '0', resultMessage: 'success' });
  });

  it('decodes a base64-encoded body', async () => {
    const { handler } = setup();
    const event = httpEvent(
      '/saltstack/v1/password/decode',
      Buffer.from('{"inputs":[{"guid":"1234","seed":"abc12345","password":"251f54c3f5be75e171ae1eb516dbacd9"}]}').toString('base64'),
    );
    event.isBase64Encoded = true;
    const result = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(bodyOf(result)).toMatchObject({ resultCode: '0', results: { outputs: [{ password: 'qq123456' }] } });
  });
});

describe('MAX_ITEMS_PER_REQUEST', () => {
  const counting = () => {
    const ran: unknown[][] = [];
    const op = defineOperation({
      plugin: 'password',
      action: 'decode',
      summary: 'counts what it is given',
      input: z.object({ guid: z.string() }),
      output: z.object({}),
      run: async (items) => {
        ran.push(items);
        return items.map(() => ({ ok: true as const, output: {} }));
      },
    }) as unknown as Operation;
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off', MAX_ITEMS_PER_REQUEST: '3' }), captureLogger().logger);
    return { op, runtime, ran };
  };
  const inputs = (n: number) => Array.from({ length: n }, (_, i) => ({ guid: `g${i}` }));

  it('refuses a request with more inputs as a whole (400) and runs none of them', async () => {
    const { op, runtime, ran } = counting();
    const result = (await makeHttpHandler([op], runtime)(
      httpEvent('/saltstack/v1/password/decode', JSON.stringify({ inputs: inputs(4) })),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      resultCode: '1',
      resultMessage: 'Request has 4 inputs: at most 3 are accepted in one request (MAX_ITEMS_PER_REQUEST); nothing was run, send them in smaller requests',
      results: null,
    });
    expect(ran).toEqual([]);
  });

  it('runs a request at the cap', async () => {
    const { op, runtime, ran } = counting();
    const result = (await makeHttpHandler([op], runtime)(
      httpEvent('/saltstack/v1/password/decode', JSON.stringify({ inputs: inputs(3) })),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
    expect(ran.map((items) => items.length)).toEqual([3]);
  });

  it('refuses it in the task handler too, before running anything', async () => {
    const { op, runtime, ran } = counting();
    await expect(makeTaskHandler(op, runtime)({ inputs: inputs(4) })).rejects.toThrow(InputError);
    expect(ran).toEqual([]);
  });

  it('defaults to 1000', () => {
    expect(loadConfig({ AUTH_MODE: 'off' }).maxItemsPerRequest).toBe(1000);
    expect(() => loadConfig({ AUTH_MODE: 'off', MAX_ITEMS_PER_REQUEST: '0' })).toThrow('MAX_ITEMS_PER_REQUEST');
  });
});

describe('makeTaskHandler', () => {
  it('returns the envelope without HTTP wrapping', async () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off' }), captureLogger().logger);
    const task = makeTaskHandler(passwordDecode(runtime.config) as Operation, runtime);
    const response = await task({ inputs: [{ guid: '1234', seed: 'abc12345', password: '251f54c3f5be75e171ae1eb516dbacd9' }] });
    expect(response).toEqual({
      resultCode: '0',
      resultMessage: 'success',
      results: { outputs: [{ guid: '1234', password: 'qq123456', errorCode: '0', errorMessage: '' }] },
    });
  });

  it('throws InputError for an event without inputs', async () => {
    const runtime = createRuntime(loadConfig({ AUTH_MODE: 'off' }), captureLogger().logger);
    const task = makeTaskHandler(passwordDecode(runtime.config) as Operation, runtime);
    await expect(task({})).rejects.toMatchObject({ name: 'InputError' });
  });
});
