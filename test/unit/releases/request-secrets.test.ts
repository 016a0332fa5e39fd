import { describe, expect, it } from '@jest/globals';
import { DEFAULT_PREFIXES } from '../../../lib/artifacts/placeholder-prefixes.js';
import { encodeCipherA } from '../../../lib/crypto/cipher-a.js';
import { InputError } from '../../../lib/errors.js';
import { Redactor } from '../../../lib/log/redactor.js';
import { REQUEST_SECRET_FIELDS, withoutSecrets } from '../../../lib/releases/release-store.js';
import { maskError } from '../../../lib/releases/release-tasks.js';
import { registerRequestSecrets } from '../../../lib/releases/request-secrets.js';

const SEED = 'seed-Qx81-unit';
const PASSWORD = 'Pw-unit-9Kd2';
const VARIABLE = 'Var-unit-Zt77';
const PLAIN_SECRET = 'Plain-unit-Hh31';
const config = { encryptSeed: undefined, placeholders: DEFAULT_PREFIXES };
const request = {
  guid: 'g-unit',
  seed: SEED,
  password: encodeCipherA('g-unit', SEED, PASSWORD),
  variableList: `port=8080, db_password=${PLAIN_SECRET}, token=${encodeCipherA('g-v', SEED, VARIABLE)}&\x01g-v`,
  destinationPath: '/srv/app/',
};

describe('registerRequestSecrets', () => {
  it('registers the password (given and decrypted), the seed, the list, decrypted and secret-named plain variables', () => {
    const redactor = new Redactor();
    registerRequestSecrets(request, redactor, config);
    const text = `${SEED} ${PASSWORD} ${request.password} ${VARIABLE} ${PLAIN_SECRET} ${request.variableList} port 8080`;
    const masked = redactor.redactText(text);
    for (const secret of [SEED, PASSWORD, request.password, VARIABLE, PLAIN_SECRET]) expect(masked).not.toContain(secret);
    expect(masked).toContain('port 8080'); // not secret: kept
  });

  it('registers what it can of a malformed request, and never throws', () => {
    const redactor = new Redactor();
    expect(() => registerRequestSecrets({ seed: SEED, password: 7, variableList: `a="${VARIABLE}` }, redactor, config)).not.toThrow();
    expect(() => registerRequestSecrets('not an object', redactor, config)).not.toThrow();
    expect(redactor.redactText(`${SEED} a="${VARIABLE}`)).toBe('[redacted] [redacted]');
  });
});

describe('withoutSecrets', () => {
  it('keeps every field but the secret ones, and says which were removed', () => {
    const kept = withoutSecrets({ ...request, sysPrivateKey: '' })!;
    expect(kept).toEqual({ guid: 'g-unit', destinationPath: '/srv/app/', secretsRemoved: ['password', 'seed', 'variableList'] });
    for (const field of REQUEST_SECRET_FIELDS) expect(kept).not.toHaveProperty(field);
    expect(JSON.stringify(kept)).not.toContain(SEED);
  });

  it('gives nothing for a request that is not an object (the record is deleted instead)', () => {
    expect(withoutSecrets(['x'])).toBeUndefined();
    expect(withoutSecrets(null)).toBeUndefined();
  });
});

describe('maskError', () => {
  it('masks registered secrets in the message and stack, keeping the class and name', () => {
    const redactor = new Redactor();
    redactor.register(PASSWORD);
    const error = new InputError(`useradd said ${PASSWORD} is weak`);
    const masked = maskError(error, redactor);
    expect(masked).toBeInstanceOf(InputError);
    expect(masked.name).toBe('InputError');
    expect(masked.message).toBe('useradd said [redacted] is weak');
    expect(masked.stack).not.toContain(PASSWORD);
    expect(error.message).toContain(PASSWORD); // a copy: the original is left alone
  });

  it('returns the same error when there is nothing to mask', () => {
    const error = new Error('plain');
    expect(maskError(error, new Redactor())).toBe(error);
  });
});
