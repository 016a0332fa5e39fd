import { describe, expect, it } from '@jest/globals';
import { hostScriptRun } from '../../../lib/scripts/host-script-run-operation.js';
import { MinionVersions } from '../../../lib/scripts/minion-versions.js';
import { hostScriptSshRun } from '../../../lib/scripts/ssh-run-operation.js';
import { MemoryKnownHosts } from '../../../lib/ssh/host-key-policy.js';
import { validateItem } from '../../../lib/input/validate-item.js';
import { MemoryStore } from '../artifacts/memory-store.js';

const neverSalt = () => {
  throw new Error('validation must not reach salt');
};
const settings = { timeoutS: 600, outputMaxChars: 1000, bucket: 'b', tempPrefix: 't/', presignExpiresS: 900 };
const run = (action: 'run' | 'run-s3') =>
  hostScriptRun({ salt: neverSalt, store: () => new MemoryStore(), versions: new MinionVersions(neverSalt), settings }, action);
const ssh = hostScriptSshRun({
  store: () => new MemoryStore(),
  knownHosts: new MemoryKnownHosts(),
  encryptSeed: undefined,
  settings: { timeoutS: 600, outputMaxChars: 1000, connectTimeoutMs: 1000, hostKeyPolicy: 'record-on-first-use' },
});

const base = { target: '127.0.0.1', runAs: 'root', endpointType: 'LOCAL', endpoint: '/opt/x.sh' };

describe('host-script item validation (before anything runs)', () => {
  it.each([
    [{ ...base, endpointType: 'HTTP' }, 'Parameter endpointType validation failed: must in (LOCAL,S3,USER_PARAM)'],
    [{ ...base, endpointType: 'S3', endpoint: '' }, 'Parameter endpoint validation failed: endpoint can not empty when endpointType=S3'],
    [{ ...base, target: '' }, 'Parameter target can not empty.'],
    [{ ...base, runAs: null }, 'Parameter runAs can not empty.'],
    [
      { ...base, endpoint: 'x.sh' },
      'Parameter endpoint validation failed: script x.sh must be an absolute path (give an absolute path, or a workDir to resolve it in)',
    ],
    [{ ...base, timeout: '0' }, 'Parameter timeout validation failed: must be a whole number of seconds between 1 and 86400'],
  ])('refuses %j with %j', (item, message) => {
    expect(() => validateItem(run('run').input, item)).toThrow(message);
  });

  it('takes the endpointType of the action when the item has none', () => {
    expect(validateItem(run('run-s3').input, { target: 'h', runAs: 'root', endpoint: 's3://b/k.sh' })).toMatchObject({ endpointType: 'S3' });
    expect(() => validateItem(run('run').input, { target: 'h', runAs: 'root', endpoint: '/x.sh' })).toThrow('endpointType');
  });

  it('accepts numbers and nulls where WeCube sends them', () => {
    expect(validateItem(run('run').input, { ...base, timeout: 30, args: null, workDir: null })).toMatchObject({ timeout: 30, args: [], workDir: undefined });
  });

  it('needs a password or a private key for ssh-run, and a real fingerprint when one is pinned', () => {
    expect(() => validateItem(ssh.input, base)).toThrow('Parameter password can not empty.');
    expect(validateItem(ssh.input, { ...base, privateKey: 'PEM', port: 2222 })).toMatchObject({ port: 2222, runAs: { user: 'root' } });
    expect(() => validateItem(ssh.input, { ...base, password: 'x', hostKeyFingerprint: 'MD5:00' })).toThrow('Parameter hostKeyFingerprint validation failed');
    expect(() => validateItem(ssh.input, { ...base, password: 'x', port: '70000' })).toThrow('Parameter port validation failed: Port is not num');
  });
});
