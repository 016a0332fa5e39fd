import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { JobFailedError, SaltApiUnavailableError, TargetNoReturnError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log/logger.js';
import { buildResponse } from '../../../lib/wecube/envelope.js';
import { commonFields, looseString, requiredString } from '../../../lib/input/fields.js';
import { defineOperation, eachItem, type Operation, type RunContext } from '../../../lib/wecube/operation.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { captureLogger } from '../helpers.js';

const RAW_ERROR_TEXT = 'ECONNRESET at 10.9.9.9 with x-auth-token deadbeef';

/** A fake operation: echoes the target, or fails the way its target says. */
function fakeOperation() {
  const batches: unknown[][] = [];
  const op = defineOperation({
    plugin: 'fake',
    action: 'echo',
    summary: 'test double',
    input: z.object({ ...commonFields, target: requiredString(), port: looseString() }),
    output: z.object({ target: z.string(), port: z.string().optional() }),
    run: async (items, ctx) => {
      batches.push(items);
      return eachItem(async (item: (typeof items)[number]) => {
        if (item.target === 'no-return') throw new TargetNoReturnError('Cannot connect to target no-return.', 'no-return');
        if (item.target === 'job-failed') throw new JobFailedError('Command on job-failed exited with code 3', 'job-failed');
        if (item.target === 'bug') throw new Error(RAW_ERROR_TEXT);
        return { target: item.target, ...(item.port !== undefined && { port: item.port }) };
      })(items, ctx);
    },
  });
  return { op, batches };
}

const context = (): { ctx: RunContext; lines: string[] } => {
  const { logger, lines } = captureLogger();
  return { ctx: { logger, signal: new AbortController().signal, concurrency: 3 }, lines };
};

describe('runOperation', () => {
  it('returns one output per input in input order, mixing invalid, failed and good items', async () => {
    const { op, batches } = fakeOperation();
    const outputs = await runOperation(
      op,
      [{ guid: 'g1', target: 'a' }, 'not an object', { guid: 'g3' }, { guid: 'g4', target: 'job-failed' }, { guid: 'g5', target: 'b', port: 3306 }],
      context().ctx,
    );
    expect(outputs).toEqual([
      { guid: 'g1', target: 'a', errorCode: '0', errorMessage: '' },
      { errorCode: '1', errorMessage: 'Input item must be a JSON object.', errorType: 'E_INPUT' },
      { guid: 'g3', errorCode: '1', errorMessage: 'Parameter target can not empty.', errorType: 'E_INPUT' },
      { guid: 'g4', errorCode: '1', errorMessage: 'Command on job-failed exited with code 3', errorType: 'E_JOB_FAILED' },
      { guid: 'g5', target: 'b', port: '3306', errorCode: '0', errorMessage: '' },
    ]);
    // Invalid items never reach the operation; the valid ones arrive together in one batch.
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual([
      { guid: 'g1', target: 'a' },
      { guid: 'g4', target: 'job-failed' },
      { guid: 'g5', target: 'b', port: '3306' },
    ]);
  });

  it.each([
    ['a string', 'cb-1', 'cb-1'],
    ['a number', 17, '17'],
    ['empty', '', undefined],
    ['null', null, undefined],
    ['absent', undefined, undefined],
  ])('echoes callbackParameter only when non-empty (%s)', async (_name, callbackParameter, expected) => {
    const { op } = fakeOperation();
    const item = { guid: 'g', target: 'a', ...(callbackParameter !== undefined && { callbackParameter }) };
    const [ok] = await runOperation(op, [item], context().ctx);
    const [failed] = await runOperation(op, [{ ...item, target: 'job-failed' }], context().ctx);
    for (const out of [ok!, failed!]) {
      if (expected === undefined) expect(out).not.toHaveProperty('callbackParameter');
      else expect(out['callbackParameter']).toBe(expected);
    }
  });

  it('echoes callbackParameter and guid on an item that failed validation', async () => {
    const [out] = await runOperation(fakeOperation().op, [{ guid: 'g9', callbackParameter: 'cb-9', target: '' }], context().ctx);
    expect(out).toEqual({ guid: 'g9', callbackParameter: 'cb-9', errorCode: '1', errorMessage: 'Parameter target can not empty.', errorType: 'E_INPUT' });
  });

  it('does not call the operation when every item is invalid', async () => {
    const { op, batches } = fakeOperation();
    const outputs = await runOperation(op, [{}, 5], context().ctx);
    expect(batches).toHaveLength(0);
    expect(outputs.map((o) => o.errorCode)).toEqual(['1', '1']);
  });

  it('gives a non-PluginError a generic message and E_INTERNAL, never the raw error text', async () => {
    const { ctx } = context();
    const [out] = await runOperation(fakeOperation().op, [{ guid: 'g', target: 'bug' }], ctx);
    expect(out!['errorCode']).toBe('1');
    expect(out!['errorType']).toBe('E_INTERNAL');
    expect(out!['errorMessage']).toBe('Internal error (see the plugin log for the request id)');
    expect(JSON.stringify(out)).not.toContain('ECONNRESET');
  });

  it('gives failed outputs the error code of the error as errorType', async () => {
    const outputs = await runOperation(fakeOperation().op, [{ target: 'no-return' }, { target: 'job-failed' }, {}], context().ctx);
    expect(outputs.map((o) => o['errorType'])).toEqual(['E_NO_RETURN', 'E_JOB_FAILED', 'E_INPUT']);
  });

  it('builds a resultMessage that names every failed item with its guid', async () => {
    const outputs = await runOperation(
      fakeOperation().op,
      [{ guid: 'ok-1', target: 'a' }, { guid: 'bad-2' }, { guid: 'bad-3', target: 'no-return' }],
      context().ctx,
    );
    const response = buildResponse(outputs);
    expect(response.resultCode).toBe('1');
    expect(response.resultMessage).toContain('guid bad-2');
    expect(response.resultMessage).toContain('Parameter target can not empty.');
    expect(response.resultMessage).toContain('guid bad-3');
    expect(response.resultMessage).toContain('Cannot connect to target no-return.');
    expect(response.resultMessage).not.toContain('ok-1');
  });

  it('logs failures with the guid and the item number', async () => {
    const { ctx, lines } = context();
    await runOperation(
      fakeOperation().op,
      [
        { guid: 'g-ok', target: 'a' },
        { guid: 'g-fail', target: 'job-failed' },
      ],
      ctx,
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', item: 2, guid: 'g-fail', error: { name: 'JobFailedError' } });
  });

  it('throws when an operation returns the wrong number of outcomes', async () => {
    const broken: Operation = defineOperation({
      plugin: 'fake',
      action: 'broken',
      summary: 'returns too few outcomes',
      input: z.object({ target: requiredString() }),
      output: z.object({}),
      run: async () => [],
    });
    await expect(runOperation(broken, [{ target: 'a' }], context().ctx)).rejects.toThrow('fake/broken returned 0 outcomes for 1 items');
  });
});

describe('runOperation when the whole batch fails', () => {
  it('fails every valid item with the reason and keeps invalid items their own message', async () => {
    const op = defineOperation({
      plugin: 'p',
      action: 'a',
      summary: 's',
      input: z.object({ ...commonFields, target: requiredString() }),
      output: z.object({}),
      run: async () => {
        throw new SaltApiUnavailableError('salt-api at https://salt:8080 did not answer within 1000 ms for POST /');
      },
    });
    const lines: string[] = [];
    const outputs = await runOperation(op, [{ guid: 'a', target: 'h1' }, { guid: 'b' }, { guid: 'c', target: 'h2' }], {
      logger: createLogger('info', (l) => lines.push(l)),
      signal: new AbortController().signal,
      concurrency: 2,
    });
    expect(outputs.map((o) => [o.guid, o.errorCode, o['errorType']])).toEqual([
      ['a', '1', 'E_SALT_UNAVAILABLE'],
      ['b', '1', 'E_INPUT'],
      ['c', '1', 'E_SALT_UNAVAILABLE'],
    ]);
    expect(outputs[0]!.errorMessage).toMatch(/did not answer/);
    expect(lines.some((l) => l.includes('operation failed for all items'))).toBe(true);
  });
});
