/**
 * The environment WeCube gives a plugin (register.xml's envVariables, upstream's names) read as this
 * project's variables, so that the plugin runs on WeCube's configuration unchanged: each upstream name is
 * used only when the project's own name is unset or blank, and `rsa@<base64>` values (WeCube encrypts
 * sensitive system parameters with the platform key) are decrypted with the private key WeCube mounts at
 * /data/certs/rsa_key (WECUBE_RSA_KEY_FILE), PKCS#1 v1.5 as upstream's DecryptRsa.
 */
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';

type Env = Record<string, string | undefined>;

/** Upstream name -> this project's name. */
const ALIASES: ReadonlyArray<readonly [upstream: string, own: string]> = [
  ['SALTSTACK_LOG_LEVEL', 'LOG_LEVEL'],
  ['minion_master_ip', 'AGENT_MINION_MASTERS'],
  ['SALTSTACK_API_CONCURRENT_NUM', 'API_CONCURRENT_NUM'],
];

/** Variables whose value may be `rsa@...` (upstream decrypts its S3 credentials and the core JWT key). */
export const RSA_VARIABLES = [
  'JWT_SIGNING_KEY',
  'DEFAULT_S3_KEY',
  'DEFAULT_S3_PASSWORD',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'SALT_API_PASSWORD',
  'ENCRYPT_SEED',
] as const;

export const DEFAULT_RSA_KEY_FILE = '/data/certs/rsa_key';

const blank = (v: string | undefined) => v === undefined || v.trim() === '';

/**
 * The environment with upstream's names mapped and `rsa@` values decrypted. Problems (an `rsa@` value that
 * cannot be decrypted) come back by variable name, for the config's one list of problems.
 */
export function fromWeCubeEnvironment(env: Env): { env: Env; problems: Array<{ variable: string; message: string }> } {
  const out: Env = { ...env };
  for (const [upstream, own] of ALIASES) if (blank(out[own]) && !blank(out[upstream])) out[own] = out[upstream];

  // S3_SERVER_URL: upstream's S3 server, its `salt-tmp` bucket (added when the URL names none).
  const s3Server = out['S3_SERVER_URL']?.trim();
  if (s3Server && blank(out['S3_ENDPOINT'])) {
    try {
      const u = new URL(s3Server);
      out['S3_ENDPOINT'] = u.origin;
      if (blank(out['S3_BUCKET'])) out['S3_BUCKET'] = u.pathname.split('/').filter(Boolean)[0] ?? 'salt-tmp';
    } catch {
      // left to S3_ENDPOINT's own check: the problem is reported under S3_SERVER_URL below
    }
  }

  const problems: Array<{ variable: string; message: string }> = [];
  if (s3Server && !URL.canParse(s3Server)) problems.push({ variable: 'S3_SERVER_URL', message: `"${s3Server}" is not a URL` });
  let key: ReturnType<typeof createPrivateKey> | undefined;
  const keyFile = out['WECUBE_RSA_KEY_FILE']?.trim() || DEFAULT_RSA_KEY_FILE;
  for (const name of RSA_VARIABLES) {
    const value = out[name]?.trim();
    if (!value || !/^rsa@/i.test(value)) continue;
    try {
      key ??= createPrivateKey(readFileSync(keyFile, 'utf8'));
      out[name] = privateDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(value.slice(4), 'base64')).toString('utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      problems.push({
        variable: name,
        message: `an rsa@ value that cannot be decrypted with ${keyFile} (WECUBE_RSA_KEY_FILE)${typeof code === 'string' ? `: ${code}` : ''}`,
      });
      out[name] = undefined;
    }
  }
  return { env: out, problems };
}
