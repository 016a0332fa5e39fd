import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { buildResponse, errorResponse, parseEnvelope, type ItemOutput } from '../../../lib/wecube/envelope.js';

describe('parseEnvelope', () => {
  it.each([
    ['an absent body', undefined],
    ['a null body', null],
    ['an empty body', ''],
    ['a blank body', '  \n '],
    ['a body that is not JSON', 'inputs=1'],
    ['truncated JSON', '{"inputs":[{"guid":"1"}'],
    ['JSON null', 'null'],
    ['a JSON array', '[{"guid":"1"}]'],
    ['an object without inputs', '{"requestId":"r1"}'],
    ['inputs as an object', '{"inputs":{"guid":"1"}}'],
    ['inputs as a string', '{"inputs":"[]"}'],
    ['inputs as null', '{"inputs":null}'],
  ])('throws InputError for %s', (_name, body) => {
    expect(() => parseEnvelope(body)).toThrow(InputError);
  });

  it.each([
    ['', /empty/],
    ['{oops', /not valid JSON/],
    ['{"inputs":1}', /"inputs" array/],
  ])('says what is wrong with %j', (body, message) => {
    expect(() => parseEnvelope(body)).toThrow(message);
  });

  it('returns the inputs array and ignores the other top-level keys', () => {
    const body = JSON.stringify({ requestId: 'r1', dueDate: 'x', operator: 'admin', inputs: [{ guid: 'a' }, 3, null] });
    expect(parseEnvelope(body)).toEqual([{ guid: 'a' }, 3, null]);
  });

  it('accepts an empty inputs array', () => {
    expect(parseEnvelope('{"inputs":[]}')).toEqual([]);
  });
});

describe('buildResponse', () => {
  const ok = (guid: string): ItemOutput => ({ guid, errorCode: '0', errorMessage: '' });
  const failed = (message: string, guid?: string): ItemOutput => ({ ...(guid && { guid }), errorCode: '1', errorMessage: message });

  it('answers resultCode 0 and "success" when every item succeeded', () => {
    const outputs = [ok('a'), ok('b')];
    expect(buildResponse(outputs)).toEqual({ resultCode: '0', resultMessage: 'success', results: { outputs } });
  });

  it('names every failed item with its position and guid, not only the last one', () => {
    const outputs = [failed('Parameter target can not empty.', 'g1'), ok('g2'), failed('Minion 10.0.0.9 did not return', 'g3'), failed('no guid here')];
    const response = buildResponse(outputs);
    expect(response.resultCode).toBe('1');
    expect(response.resultMessage).toBe(
      'item 1 (guid g1): Parameter target can not empty.; item 3 (guid g3): Minion 10.0.0.9 did not return; item 4: no guid here',
    );
    expect(response.results?.outputs).toBe(outputs);
  });

  it('answers resultCode 0 for an empty request', () => {
    expect(buildResponse([])).toEqual({ resultCode: '0', resultMessage: 'success', results: { outputs: [] } });
  });
});

describe('errorResponse', () => {
  it('has resultCode 1, the message and null results', () => {
    expect(errorResponse('Token illegal')).toEqual({ resultCode: '1', resultMessage: 'Token illegal', results: null });
  });
});
