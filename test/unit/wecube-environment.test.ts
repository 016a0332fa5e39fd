import { afterAll, describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { fromWeCubeEnvironment } from '../../lib/wecube-environment.js';

const dir = mkdtempSync(join(tmpdir(), 'wecube-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The platform key WeCube mounts at /data/certs/rsa_key (PKCS#8 PEM), and a value encrypted as WeCube does.
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyFile = join(dir, 'rsa_key');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
const rsa = (plain: string) => `rsa@${publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(plain)).toString('base64')}`;

const local = { STAGE: 'local', AUTH_MODE: 'off' };

describe("WeCube's environment names (register.xml envVariables)", () => {
  it('reads minion_master_ip, SALTSTACK_LOG_LEVEL and SALTSTACK_API_CONCURRENT_NUM when the own names are unset', () => {
    const config = loadConfig({ ...local, minion_master_ip: '10.0.0.9', SALTSTACK_LOG_LEVEL: 'warn', SALTSTACK_API_CONCURRENT_NUM: '7' });
    expect([config.agent.masters, config.logLevel, config.itemConcurrency]).toEqual([['10.0.0.9'], 'warn', 7]);
  });

  it("lets the project's own name win when both are set", () => {
    const config = loadConfig({ ...local, minion_master_ip: '10.0.0.9', AGENT_MINION_MASTERS: '10.0.0.1', SALTSTACK_LOG_LEVEL: 'warn', LOG_LEVEL: 'debug' });
    expect([config.agent.masters, config.logLevel]).toEqual([['10.0.0.1'], 'debug']);
  });

  it.each([
    ['http://10.0.0.2:9000', 'http://10.0.0.2:9000', 'salt-tmp'],
    ['http://10.0.0.2:9000/', 'http://10.0.0.2:9000', 'salt-tmp'],
    ['http://10.0.0.2:9000/salt-tmp', 'http://10.0.0.2:9000', 'salt-tmp'],
  ])("reads S3_SERVER_URL %s as endpoint %s, bucket %s (upstream's salt-tmp)", (server, endpoint, bucket) => {
    const config = loadConfig({ ...local, S3_SERVER_URL: server });
    expect([config.s3.endpoint, config.s3.bucket]).toEqual([endpoint, bucket]);
  });
});

describe('rsa@ values', () => {
  it("decrypts JWT_SIGNING_KEY and the S3 credentials with the platform key, as upstream's DecryptRsa", () => {
    const jwt = randomBytes(48).toString('base64'); // WeCube's JWT_SIGNING_KEY is base64
    const config = loadConfig({
      STAGE: 'prod',
      AUTH_MODE: 'jwt',
      WECUBE_RSA_KEY_FILE: keyFile,
      JWT_SIGNING_KEY: rsa(jwt),
      DEFAULT_S3_KEY: rsa('AK'),
      DEFAULT_S3_PASSWORD: rsa('SK-secret'),
    });
    expect(Buffer.from(config.jwtKey!).toString('base64')).toBe(jwt);
    expect(config.s3.credentials).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK-secret' });
  });

  it('refuses an rsa@ value it cannot decrypt, naming the variable and the key file, with the other problems', () => {
    const env = { STAGE: 'prod', AUTH_MODE: 'jwt', WECUBE_RSA_KEY_FILE: join(dir, 'missing'), JWT_SIGNING_KEY: rsa('x'.repeat(40)), SALT_API_INSECURE: 'ture' };
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Configuration has 2 problems: /);
    expect(message).toContain(`JWT_SIGNING_KEY: an rsa@ value that cannot be decrypted with ${join(dir, 'missing')} (WECUBE_RSA_KEY_FILE): ENOENT`);
    expect(message).toContain('SALT_API_INSECURE: "ture" is not a boolean');
    expect(message).not.toContain('required when AUTH_MODE=jwt');
  });

  it('leaves values without the rsa@ prefix alone', () => {
    expect(fromWeCubeEnvironment({ ENCRYPT_SEED: 'plain-seed' }).env['ENCRYPT_SEED']).toBe('plain-seed');
  });
});
