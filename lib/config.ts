import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const flag = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? fallback : /^(y|yes|true|1|on)$/i.test(v.trim())));

const int = (fallback: number, min = 1) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `must be an integer >= ${min}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  STAGE: z.string().default('local'),
  AUTH_MODE: z.enum(['jwt', 'off']).default('jwt'),
  JWT_SIGNING_KEY: optional,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).catch('info').default('info'),
  ENCRYPT_SEED: optional,
  API_CONCURRENT_NUM: int(5),

  SALT_API_URL: z.url().default('https://127.0.0.1:8080'),
  SALT_API_EAUTH: z.enum(['pam', 'file', 'sharedsecret', 'ldap', 'auto']).default('pam'),
  SALT_API_USER: z.string().default('saltapi'),
  SALT_API_PASSWORD: optional,
  SALT_API_CA_FILE: optional,
  SALT_API_INSECURE: flag(false),
  SALT_API_TIMEOUT_MS: int(30_000),
  SALT_API_LOGIN_TIMEOUT_MS: int(15_000),
  SALT_JOB_TIMEOUT_S: int(300),
  SALT_API_CALL_ENABLED: flag(false),

  S3_ENDPOINT: optional,
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY: optional,
  S3_SECRET_KEY: optional,
  DEFAULT_S3_KEY: optional,
  DEFAULT_S3_PASSWORD: optional,
  S3_BUCKET: optional,
  S3_FORCE_PATH_STYLE: flag(true),
  S3_PRESIGN_EXPIRES_S: int(900, 60),
});

/** The parsed configuration: the only view of process.env the rest of the code gets. */
export interface Config {
  stage: string;
  authMode: 'jwt' | 'off';
  /** Decoded HMAC key bytes, absent only when authMode is off. */
  jwtKey: Uint8Array | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  encryptSeed: string | undefined;
  itemConcurrency: number;
  salt: {
    url: string;
    eauth: string;
    username: string;
    password: string;
    ca: string | undefined;
    insecure: boolean;
    timeoutMs: number;
    loginTimeoutMs: number;
    jobTimeoutS: number;
  };
  saltApiCallEnabled: boolean;
  s3: {
    /** Custom endpoint (MinIO, s3rver...); undefined means AWS S3 itself. */
    endpoint: string | undefined;
    region: string;
    /** Static credentials; undefined means the default AWS chain (the Lambda role). */
    credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    /** Bucket for artifacts the plugin writes (re-packed packages, release results). */
    bucket: string | undefined;
    forcePathStyle: boolean;
    presignExpiresS: number;
  };
}

/**
 * Base64 key as upstream reads it (unpadded standard alphabet); padded and URL-safe forms are accepted too,
 * since a key with `=` made upstream reject every call.
 */
export function decodeJwtKey(text: string): Uint8Array {
  const normalised = text.trim().replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]+$/.test(normalised)) throw new ConfigError('JWT_SIGNING_KEY is not base64');
  const bytes = Buffer.from(normalised, 'base64');
  if (bytes.length < 16) throw new ConfigError('JWT_SIGNING_KEY decodes to fewer than 16 bytes');
  return new Uint8Array(bytes);
}

function s3Credentials(accessKeyId: string | undefined, secretAccessKey: string | undefined) {
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new ConfigError('S3_ACCESS_KEY and S3_SECRET_KEY must be set together (or neither, for the AWS role)');
  }
  return { accessKeyId, secretAccessKey };
}

/** Parses and checks the environment once; throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Environment variable ${String(issue.path[0])} is invalid: ${issue.message}`);
  }
  const e = parsed.data;
  if (e.AUTH_MODE === 'off' && e.STAGE !== 'local') {
    throw new ConfigError(`AUTH_MODE=off is only allowed when STAGE=local (STAGE is "${e.STAGE}")`);
  }
  if (e.AUTH_MODE === 'jwt' && !e.JWT_SIGNING_KEY) {
    throw new ConfigError('JWT_SIGNING_KEY is required when AUTH_MODE=jwt (there is no default key)');
  }
  if (e.SALT_API_INSECURE && e.SALT_API_CA_FILE) {
    throw new ConfigError('SALT_API_INSECURE and SALT_API_CA_FILE are mutually exclusive');
  }
  let ca: string | undefined;
  if (e.SALT_API_CA_FILE) {
    try {
      ca = readFileSync(e.SALT_API_CA_FILE, 'utf8');
    } catch {
      throw new ConfigError(`SALT_API_CA_FILE cannot be read: ${e.SALT_API_CA_FILE}`);
    }
  }
  return {
    stage: e.STAGE,
    authMode: e.AUTH_MODE,
    jwtKey: e.AUTH_MODE === 'jwt' ? decodeJwtKey(e.JWT_SIGNING_KEY!) : undefined,
    logLevel: e.LOG_LEVEL,
    encryptSeed: e.ENCRYPT_SEED,
    itemConcurrency: e.API_CONCURRENT_NUM,
    salt: {
      url: e.SALT_API_URL.replace(/\/+$/, ''),
      eauth: e.SALT_API_EAUTH,
      username: e.SALT_API_USER,
      password: e.SALT_API_PASSWORD ?? '',
      ca,
      insecure: e.SALT_API_INSECURE,
      timeoutMs: e.SALT_API_TIMEOUT_MS,
      loginTimeoutMs: e.SALT_API_LOGIN_TIMEOUT_MS,
      jobTimeoutS: e.SALT_JOB_TIMEOUT_S,
    },
    saltApiCallEnabled: e.SALT_API_CALL_ENABLED,
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      credentials: s3Credentials(e.S3_ACCESS_KEY ?? e.DEFAULT_S3_KEY, e.S3_SECRET_KEY ?? e.DEFAULT_S3_PASSWORD),
      bucket: e.S3_BUCKET,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      presignExpiresS: e.S3_PRESIGN_EXPIRES_S,
    },
  };
}
