import { InputError } from '../errors.js';
import { describeJsonProblem } from '../text/json-problem.js';

export interface ItemOutput {
  guid?: string;
  callbackParameter?: string;
  /** "0" success, "1" failure; "2" where upstream answers it (released-package/listCurrentDir: no such directory). */
  errorCode: '0' | '1' | '2';
  errorMessage: string;
  [field: string]: unknown;
}

export interface ResponseEnvelope {
  resultCode: '0' | '1';
  resultMessage: string;
  results: { outputs: ItemOutput[] } | null;
}

/**
 * Parses the WeCube request body; only `inputs` is read. Throws InputError for a bad envelope, and for
 * more than `maxItems` inputs (the whole request is refused: nothing runs for any of them).
 */
export function parseEnvelope(body: string | undefined | null, maxItems = Infinity): unknown[] {
  if (body === undefined || body === null || body.trim() === '') {
    throw new InputError('Request body is empty: expected JSON {"inputs":[...]}');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // JSON.parse's message quotes the body (passwords included): say where, not what
    throw new InputError(`Request body is not valid JSON: ${describeJsonProblem(body)}`);
  }
  const inputs = (parsed as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) throw new InputError('Request body has no "inputs" array');
  if (inputs.length > maxItems) {
    throw new InputError(
      `Request has ${inputs.length} inputs: at most ${maxItems} are accepted in one request (MAX_ITEMS_PER_REQUEST); nothing was run, send them in smaller requests`,
    );
  }
  return inputs;
}

/** The response for a processed request: resultCode 1 names every failed item, not only the last one. */
export function buildResponse(outputs: ItemOutput[]): ResponseEnvelope {
  const failures = outputs
    .map((o, i) => ({ o, i }))
    .filter(({ o }) => o.errorCode !== '0')
    .map(({ o, i }) => `item ${i + 1}${o.guid ? ` (guid ${o.guid})` : ''}: ${o.errorMessage}`);
  return {
    resultCode: failures.length ? '1' : '0',
    resultMessage: failures.length ? failures.join('; ') : 'success',
    results: { outputs },
  };
}

/** The response for a request that never reached its items (bad envelope, auth, unknown route). */
export function errorResponse(message: string): ResponseEnvelope {
  return { resultCode: '1', resultMessage: message, results: null };
}
