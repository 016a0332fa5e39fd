import type { SecretSource } from '../../../lib/secrets/secret-source.js';

/** A Secrets Manager stand-in: answers the current text (or throws `failure`), counting the fetches. */
export function fakeSource(initial: string) {
  const state = { text: initial, fetches: 0, failure: undefined as Error | undefined, gate: undefined as Promise<void> | undefined };
  const source: SecretSource = {
    getSecret: async () => {
      state.fetches++;
      await state.gate;
      if (state.failure) throw state.failure;
      return { text: state.text, versionId: `v${state.fetches}` };
    },
  };
  return { source, state };
}
