import { describe, expect, it } from '@jest/globals';
import { SecretsError } from '../../../lib/errors.js';
import { SecretCache } from '../../../lib/secrets/secret-cache.js';
import { deferred } from '../helpers.js';
import { fakeSource } from './fake-secret-source.js';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
};

describe('SecretCache', () => {
  it.each([
    // ttl, elapsed ms before the second read, fetches after it
    [300, 0, 1],
    [300, 299_999, 1],
    [300, 300_000, 2],
    [1, 1_500, 2],
    [0, 10 * 365 * 86_400_000, 1],
  ])('with SECRETS_TTL_S=%i, a read %i ms after the first makes %i fetch(es) in all', async (ttlS, elapsed, fetches) => {
    const { source, state } = fakeSource('{"ENCRYPT_SEED":"one"}');
    const time = clock();
    const cache = new SecretCache({ source, id: 's', ttlS, now: time.now });
    expect(await cache.get()).toBe('{"ENCRYPT_SEED":"one"}');
    state.text = '{"ENCRYPT_SEED":"two"}';
    time.advance(elapsed);
    expect(await cache.get()).toBe(fetches === 2 ? '{"ENCRYPT_SEED":"two"}' : '{"ENCRYPT_SEED":"one"}');
    expect(state.fetches).toBe(fetches);
  });

  it('shares one fetch between concurrent reads', async () => {
    const { source, state } = fakeSource('{}');
    const gate = deferred();
    state.gate = gate.promise;
    const cache = new SecretCache({ source, id: 's', ttlS: 300 });
    const reads = [cache.get(), cache.get(), cache.get()];
    gate.resolve();
    expect(await Promise.all(reads)).toEqual(['{}', '{}', '{}']);
    expect(state.fetches).toBe(1);
  });

  it('keeps nothing from a failed fetch: the error reaches the caller, the next read fetches again', async () => {
    const { source, state } = fakeSource('{}');
    state.failure = new SecretsError('no', 's', 'AccessDeniedException');
    const cache = new SecretCache({ source, id: 's', ttlS: 300 });
    await expect(cache.get()).rejects.toBeInstanceOf(SecretsError);
    state.failure = undefined;
    expect(await cache.get()).toBe('{}');
    expect(state.fetches).toBe(2);
  });

  it('fails a refetch past the TTL instead of serving the old value (a revoked or deleted secret stops the functions)', async () => {
    const { source, state } = fakeSource('{"ENCRYPT_SEED":"one"}');
    const time = clock();
    const cache = new SecretCache({ source, id: 's', ttlS: 60, now: time.now });
    await cache.get();
    time.advance(60_000);
    state.failure = new SecretsError('gone', 's', 'ResourceNotFoundException');
    await expect(cache.get()).rejects.toThrow('gone');
  });

  it('fetches on the next read after invalidate()', async () => {
    const { source, state } = fakeSource('{}');
    const cache = new SecretCache({ source, id: 's', ttlS: 0 });
    await cache.get();
    cache.invalidate();
    await cache.get();
    expect(state.fetches).toBe(2);
  });
});
