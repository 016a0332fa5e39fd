import { describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { parseRsaKeyPair } from '../../../lib/artifacts/encrypt-variable.js';
import { combinedPrefixes, DEFAULT_PREFIXES } from '../../../lib/artifacts/placeholder-prefixes.js';
import { substituteBuffer } from '../../../lib/artifacts/replace-placeholders.js';
import { unresolvedError, VariableResolver } from '../../../lib/artifacts/variable-resolver.js';

const PREFIXES = combinedPrefixes(DEFAULT_PREFIXES);

function setup(variables: Record<string, string>, keys?: () => ReturnType<typeof parseRsaKeyPair>) {
  const secrets: string[] = [];
  let keyLoads = 0;
  const fileReplacements = new Map<string, string>();
  const resolver = new VariableResolver({
    variables: new Map(Object.entries(variables)),
    keys: () => {
      keyLoads++;
      if (!keys) throw new Error('no keys needed here');
      return keys();
    },
    onSecret: (v) => secrets.push(v),
    fileReplacements,
  });
  const run = (text: string, file = 'conf/a.properties') =>
    substituteBuffer(Buffer.from(text), PREFIXES, (ph, line) => resolver.resolve(ph, file, line)).toString('utf8');
  return { resolver, run, secrets, fileReplacements, keyLoads: () => keyLoads };
}

describe('VariableResolver', () => {
  it('replaces plain placeholders and never needs the RSA keys for them', () => {
    const s = setup({ port: '8080' });
    expect(s.run('a=[@port] b=[#PORT]\n')).toBe('a=8080 b=8080\n');
    expect(s.keyLoads()).toBe(0);
    expect(s.secrets).toEqual([]);
  });

  it('reports unresolved placeholders once per file, name and prefix, with the first line', () => {
    const s = setup({ port: '1' });
    s.run('[@db]\n[@db] [!pw]\n[@port]\n');
    s.run('[@db]\n', 'conf/b.yml');
    expect(s.resolver.unresolved).toEqual([
      { file: 'conf/a.properties', line: '1', key: 'db', type: '@' },
      { file: 'conf/a.properties', line: '2', key: 'pw', type: '!' },
      { file: 'conf/b.yml', line: '1', key: 'db', type: '@' },
    ]);
    expect(unresolvedError(s.resolver.unresolved).message).toBe(
      'Variables not found in variableList: conf/a.properties:1 [@db], conf/a.properties:2 [!pw], conf/b.yml:1 [@db]',
    );
  });

  it('records whole-file replacements confined to the root and leaves their line as it is', () => {
    const s = setup({ 'conf/app.keystore': 's3://b/ks.jks', '/certs/ca.pem': 'http://h/b/ca.pem', empty: '' });
    expect(s.run('ks=[^conf/app.keystore]\nca=[^/certs/ca.pem] [^empty]\n')).toBe('ks=[^conf/app.keystore]\nca=[^/certs/ca.pem] [^empty]\n');
    expect([...s.fileReplacements]).toEqual([
      ['conf/app.keystore', 's3://b/ks.jks'],
      ['certs/ca.pem', 'http://h/b/ca.pem'],
    ]);
  });

  it('refuses a whole-file target outside the package root', () => {
    const s = setup({ '../../etc/cron.d/x': 'http://h/b/x' });
    expect(() => s.run('[^../../etc/cron.d/x]\n')).toThrow('Try to replace file fail,../../etc/cron.d/x escapes the package root');
  });

  it('encrypts ! and + values once per name, reports the clear value as a secret, and decrypts back', () => {
    const app = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keys = parseRsaKeyPair(
      app.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      sys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const s = setup({ pw: 'hunter2!' }, () => keys);
    const out = s.run('a=[+pw]\nb=[+PW]\nc=[!pw]\n').split('\n');
    expect(out[0]).toBe(out[1]!.replace('b=', 'a='));
    expect(out[0]).toMatch(/^a=ffffff02[0-9a-f]{256}$/);
    const single = Buffer.from(out[0]!.slice('a=ffffff02'.length), 'hex');
    expect(privateDecrypt({ key: app.privateKey, padding: constants.RSA_PKCS1_PADDING }, single).toString()).toBe('hunter2!');
    expect(out[2]).toMatch(/^c=[0-9a-f]{512}$/);
    expect(s.secrets).toEqual(['hunter2!', 'hunter2!']);
    expect(s.keyLoads()).toBe(2);
  });

  it('fails the file when an encrypted placeholder needs keys that are missing', () => {
    const s = setup({ pw: 'x' }, () => parseRsaKeyPair('', ''));
    expect(() => s.run('[%pw]\n')).toThrow('GetVariableValue publicKey is empty');
  });
});
