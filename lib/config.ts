import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_PREFIXES, parsePrefixList, prefixProblem, type PlaceholderPrefixes } from './artifacts/placeholder-prefixes.js';
import { ConfigError } from './errors.js';
import { DB_TLS_MODES, parseDbTls, type DbTls } from './tls/db-tls.js';
import { HMAC_MIN_KEY_BYTES, MIN_JWT_KEY_BYTES } from './wecube/hmac-key-size.js';

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

// Empty (serverless.yml's `${env:X, ''}`) means the default, off.
const tlsMode = z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v), z.enum(DB_TLS_MODES).default('off'));

const envSchema = z.object({
  STAGE: z.string().default('local'),
  AUTH_MODE: z.enum(['jwt', 'off']).default('jwt'),
  JWT_SIGNING_KEY: optional,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).catch('info').default('info'),
  ENCRYPT_SEED: optional,
  API_CONCURRENT_NUM: int(5),
  // A request with more inputs is refused whole, before any host is touched (WeCube sends one per instance).
  MAX_ITEMS_PER_REQUEST: int(1000),

  SALT_API_URL: z.url().default('https://127.0.0.1:8080'),
  SALT_API_EAUTH: z.enum(['pam', 'file', 'sharedsecret', 'ldap', 'auto']).default('pam'),
  SALT_API_USER: z.string().default('saltapi'),
  SALT_API_PASSWORD: optional,
  SALT_API_CA_FILE: optional,
  SALT_API_INSECURE: flag(false),
  SALT_API_TIMEOUT_MS: int(30_000),
  SALT_API_LOGIN_TIMEOUT_MS: int(15_000),
  SALT_JOB_TIMEOUT_S: int(300),
  // Admission toward salt (per process): salt jobs in flight per minion and in all; more wait in a queue.
  SALT_MAX_JOBS_PER_MINION: int(4, 1),
  SALT_MAX_JOBS: int(32, 1),
  // A salt-api reply (a job's results) past this size is not read further: the call fails instead of the Lambda's memory.
  SALT_REPLY_MAX_BYTES: int(64 * 1024 * 1024, 1024),
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

  // Placeholder prefixes and the null check of package-variable/replace, under upstream's names (§8.3).
  SALTSTACK_DEFAULT_SPECIAL_REPLACE: optional,
  SALTSTACK_ENCRYPT_VARIBLE_PREFIX: optional,
  SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX: optional,
  SALTSTACK_FILE_VARIBLE_PREFIX: optional,
  SALTSTACK_VARIABLE_NULL_CHECK: optional,
  VARIABLE_NULL_CHECK: optional,

  DB_CONNECT_TIMEOUT_MS: int(10_000),
  DB_QUERY_TIMEOUT_MS: int(300_000),
  // TLS of the MySQL/Redis connections, for every item (callers give only host and port): off by default, as
  // upstream, since callers' servers may not offer TLS; `required` verifies the certificate and the host name.
  MYSQL_TLS: tlsMode,
  MYSQL_TLS_CA_FILE: optional,
  REDIS_TLS: tlsMode,
  REDIS_TLS_CA_FILE: optional,

  // host-script: default kill timeout of a script, cap of an item's detail, where inline scripts are staged.
  SCRIPT_TIMEOUT_S: int(600),
  SCRIPT_OUTPUT_MAX_CHARS: int(65_536, 1024),
  SCRIPT_TEMP_PREFIX: z.string().default('tmp/host-script/'),
  // ssh-run: connection timeout, host key policy, where first-seen host keys are recorded (artifact bucket).
  SSH_CONNECT_TIMEOUT_MS: int(10_000),
  SSH_HOST_KEY_POLICY: z.enum(['record-on-first-use', 'known-only']).default('record-on-first-use'),
  SSH_KNOWN_HOSTS_PREFIX: z.string().default('ssh-known-hosts/'),

  // agent/install: what minions are told (masters as seen from the hosts, ports), where their config lives,
  // the default install method, the bootstrap script URL, and the bounds of each step.
  AGENT_MINION_MASTERS: optional,
  AGENT_MINION_MASTER_PORT: int(4506),
  AGENT_MINION_PUBLISH_PORT: optional,
  AGENT_MINION_CONFIG_DIR: z.string().default('/etc/salt'),
  AGENT_MINION_BIN: z.string().default('salt-minion'),
  AGENT_INSTALL_METHOD: z.enum(['repository', 'bootstrap', 'bundle', 'preinstalled']).default('repository'),
  AGENT_BUNDLE_URL: optional,
  AGENT_BOOTSTRAP_URL: z.string().default('https://github.com/saltstack/salt-bootstrap/releases/latest/download/bootstrap-salt.sh'),
  AGENT_COMMAND_TIMEOUT_S: int(300),
  AGENT_KEY_WAIT_S: int(60),
  AGENT_PING_WAIT_S: int(60),

  // Host operations: which lsblk device types count as data disks, the lowest uid host-user may touch.
  DISK_DEVICE_TYPES: optional,
  HOST_USER_MIN_UID: int(1000, 0),
  // host-user/delete purges a home (userdel -r) only below this directory, and only when the user owns it.
  HOST_USER_HOME_ROOT: z
    .string()
    .default('/home')
    .refine((v) => /^(\/[^/\0]+)+\/?$/.test(v) && !v.split('/').includes('..'), 'must be an absolute directory other than /, without ..'),

  // Releases: where the state machine runs (AWS Step Functions, or in-process on the same ASL file), its
  // ARN on AWS, where release records live in the artifact bucket, the distribution job poll interval.
  RELEASE_RUNNER: z.enum(['aws', 'local']).optional(),
  RELEASE_STATE_MACHINE_ARN: optional,
  RELEASE_PREFIX: z.string().default('.saltstack-releases/'),
  RELEASE_POLL_SECONDS: int(3),
  // The release request record (the one object holding a release's secrets) is written SSE-KMS, with
  // this key (id, ARN or alias; empty = the bucket's default / the AWS managed key); `off` for an
  // S3-compatible server without KMS.
  RELEASE_KMS_KEY_ID: optional,
  RELEASE_REQUEST_SSE: z.enum(['aws:kms', 'off']).default('aws:kms'),
  // S3-started releases: manifests are taken only under this prefix, and only from these uploaders
  // (S3 event principalIds, comma-separated; `*` = anyone who can write there; empty = none).
  RELEASE_MANIFEST_PREFIX: z.string().default('releases/'),
  RELEASE_UPLOADERS: z.string().default(''),
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
  /** Inputs one request may carry (MAX_ITEMS_PER_REQUEST); more are refused before anything runs. */
  maxItemsPerRequest: number;
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
    /** Salt jobs in flight at once from this process: on one minion, and in all (the rest queue). */
    maxJobsPerMinion: number;
    maxJobs: number;
    /** Bytes of one salt-api reply read at most (SALT_REPLY_MAX_BYTES); past it the call fails. */
    replyMaxBytes: number;
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
  /** Placeholder prefixes of package-variable/replace (plain, double-RSA, single-RSA, whole-file). */
  placeholders: PlaceholderPrefixes;
  /** Unresolved placeholders (and legacy `NULL\x01` values) are an error, not left in place. */
  variableNullCheck: boolean;
  /** MySQL/MariaDB and Redis connections the database operations open per item. */
  db: {
    connectTimeoutMs: number;
    /** Bound of one SQL statement or Redis command; a statement past it is killed on the server. */
    queryTimeoutMs: number;
    /** MYSQL_TLS=required: TLS verified against this CA (undefined: plain connections). */
    mysqlTls: DbTls | undefined;
    /** REDIS_TLS=required: TLS verified against this CA (undefined: plain connections). */
    redisTls: DbTls | undefined;
  };
  /** host-script operations. */
  scripts: {
    /** Seconds before a script is killed when the item gives no `timeout`. */
    timeoutS: number;
    /** An item's detail is capped at this many characters (beginning and end kept). */
    outputMaxChars: number;
    /** Key prefix (in the artifact bucket) of the temporary objects holding inline scripts. */
    tempPrefix: string;
  };
  /** host-script/ssh-run. */
  ssh: {
    connectTimeoutMs: number;
    /** `record-on-first-use`: an unknown host's key is recorded and trusted; `known-only`: refused. */
    hostKeyPolicy: 'record-on-first-use' | 'known-only';
    /** Key prefix (in the artifact bucket) of the recorded host keys, one object per host:port. */
    knownHostsPrefix: string;
  };
  /** agent/install and agent/uninstall. */
  agent: {
    /** Master addresses written into the minion config (`master`); empty means install is refused. */
    masters: string[];
    masterPort: number;
    publishPort: number | undefined;
    /** Minion config dir on the hosts; `/etc/salt` uses systemd where it exists, any other dir starts salt-minion directly. */
    configDir: string;
    /** The salt-minion program on the hosts (a name on PATH or an absolute path). */
    minionBin: string;
    defaultMethod: 'repository' | 'bootstrap' | 'bundle' | 'preinstalled';
    bootstrapUrl: string;
    /** S3 endpoint of the offline bundle (method bundle); hosts get a presigned URL of it. */
    bundleUrl: string | undefined;
    /** Bound of each command run over SSH (pre-command, install, uninstall). */
    commandTimeoutS: number;
    /** How long to wait for the minion's key to reach the master, then for test.ping to answer. */
    keyWaitS: number;
    pingWaitS: number;
  };
  /** Releases (the release state machine). */
  releases: {
    /** `local`: the ASL runs in-process (aws-local-stepfunctions); `aws`: AWS Step Functions. */
    runner: 'aws' | 'local';
    stateMachineArn: string | undefined;
    /** Key prefix of release records in the artifact bucket (request, plan, per-host progress, result). */
    prefix: string;
    /** Seconds between two looks at a distribution job (the state machine's Wait). */
    pollSeconds: number;
    /** Server-side encryption of the request record (it holds the secrets until the release ends). */
    requestEncryption: { sse: 'aws:kms'; kmsKeyId: string | undefined } | undefined;
    /** Key prefix (ending in `/`) under which `*.release.json` manifests start releases. */
    manifestPrefix: string;
    /** S3 event principalIds allowed to start releases by manifest; `*` = anyone, an entry ending in `*` a prefix; empty = nobody. */
    uploaders: string[];
  };
  /** Host operations (disk, host-user). */
  hosts: {
    /** lsblk TYPEs that disk/* treats as data disks (default `disk`; tests use `loop`). */
    diskDeviceTypes: string[];
    /** Existing accounts below this uid (root, daemons) are never changed or deleted by host-user. */
    userMinUid: number;
    /** host-user/delete removes a home only when it is below this directory and owned by the user. */
    userHomeRoot: string;
  };
}

/**
 * Base64 key as upstream reads it (unpadded standard alphabet); padded and URL-safe forms are accepted too,
 * since a key with `=` made upstream reject every call. Unlike upstream, a key shorter than the HS256 hash
 * (32 bytes) is refused, upstream's public default `Platform+Auth+Server+Secret` (20 bytes) included;
 * HS384/HS512 tokens need 48/64 bytes and are refused per token (jwt-auth.ts). Throws ConfigError.
 */
export function decodeJwtKey(text: string): Uint8Array {
  const normalised = text.trim().replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]+$/.test(normalised)) throw new ConfigError('JWT_SIGNING_KEY is not base64');
  const bytes = Buffer.from(normalised, 'base64');
  if (bytes.length < MIN_JWT_KEY_BYTES) {
    const sizes = Object.entries(HMAC_MIN_KEY_BYTES).map(([alg, n]) => `${alg} ${n}`).join(', ');
    throw new ConfigError(
      `JWT_SIGNING_KEY decodes to ${bytes.length} bytes: an HMAC key must be at least as long as its hash (${sizes} bytes); ` +
        'set the same new key (e.g. `openssl rand -base64 64`) on the WeCube platform and here',
    );
  }
  return new Uint8Array(bytes);
}

function s3Credentials(accessKeyId: string | undefined, secretAccessKey: string | undefined) {
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new ConfigError('S3_ACCESS_KEY and S3_SECRET_KEY must be set together (or neither, for the AWS role)');
  }
  return { accessKeyId, secretAccessKey };
}

function agentPort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`AGENT_MINION_PUBLISH_PORT must be a TCP port, got "${text}"`);
  return n;
}

// An empty prefix would take manifests from the whole bucket, which the S3 notification filter cannot say.
function manifestPrefix(text: string): string {
  const prefix = text.trim().replace(/^\/+/, '').replace(/\/*$/, '/');
  if (prefix === '/') throw new ConfigError('RELEASE_MANIFEST_PREFIX must name a key prefix (e.g. releases/), got an empty one');
  return prefix;
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
  const placeholders: PlaceholderPrefixes = {
    plain: parsePrefixList(e.SALTSTACK_DEFAULT_SPECIAL_REPLACE, DEFAULT_PREFIXES.plain),
    doubleRsa: parsePrefixList(e.SALTSTACK_ENCRYPT_VARIBLE_PREFIX, DEFAULT_PREFIXES.doubleRsa),
    singleRsa: parsePrefixList(e.SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX, DEFAULT_PREFIXES.singleRsa),
    file: parsePrefixList(e.SALTSTACK_FILE_VARIBLE_PREFIX, DEFAULT_PREFIXES.file),
  };
  const prefixError = prefixProblem(placeholders);
  if (prefixError) {
    throw new ConfigError(
      `SALTSTACK_DEFAULT_SPECIAL_REPLACE / SALTSTACK_ENCRYPT_VARIBLE_PREFIX / SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX / SALTSTACK_FILE_VARIBLE_PREFIX: ${prefixError}`,
    );
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
    maxItemsPerRequest: e.MAX_ITEMS_PER_REQUEST,
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
      maxJobsPerMinion: e.SALT_MAX_JOBS_PER_MINION,
      maxJobs: e.SALT_MAX_JOBS,
      replyMaxBytes: e.SALT_REPLY_MAX_BYTES,
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
    placeholders,
    variableNullCheck: /^(y|yes|true|1|on)$/i.test(e.SALTSTACK_VARIABLE_NULL_CHECK ?? e.VARIABLE_NULL_CHECK ?? ''),
    db: {
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
      mysqlTls: parseDbTls('MYSQL', e.MYSQL_TLS, e.MYSQL_TLS_CA_FILE),
      redisTls: parseDbTls('REDIS', e.REDIS_TLS, e.REDIS_TLS_CA_FILE),
    },
    scripts: { timeoutS: e.SCRIPT_TIMEOUT_S, outputMaxChars: e.SCRIPT_OUTPUT_MAX_CHARS, tempPrefix: e.SCRIPT_TEMP_PREFIX },
    ssh: {
      connectTimeoutMs: e.SSH_CONNECT_TIMEOUT_MS,
      hostKeyPolicy: e.SSH_HOST_KEY_POLICY,
      knownHostsPrefix: e.SSH_KNOWN_HOSTS_PREFIX,
    },
    agent: {
      masters: (e.AGENT_MINION_MASTERS ?? '').split(',').map((m) => m.trim()).filter(Boolean),
      masterPort: e.AGENT_MINION_MASTER_PORT,
      publishPort: e.AGENT_MINION_PUBLISH_PORT === undefined ? undefined : agentPort(e.AGENT_MINION_PUBLISH_PORT),
      configDir: e.AGENT_MINION_CONFIG_DIR.replace(/(.)\/+$/, '$1'),
      minionBin: e.AGENT_MINION_BIN,
      defaultMethod: e.AGENT_INSTALL_METHOD,
      bootstrapUrl: e.AGENT_BOOTSTRAP_URL,
      bundleUrl: e.AGENT_BUNDLE_URL,
      commandTimeoutS: e.AGENT_COMMAND_TIMEOUT_S,
      keyWaitS: e.AGENT_KEY_WAIT_S,
      pingWaitS: e.AGENT_PING_WAIT_S,
    },
    releases: {
      runner: e.RELEASE_RUNNER ?? (e.STAGE === 'local' ? 'local' : 'aws'),
      stateMachineArn: e.RELEASE_STATE_MACHINE_ARN,
      prefix: e.RELEASE_PREFIX.replace(/^\/+/, '').replace(/\/*$/, '/'),
      pollSeconds: e.RELEASE_POLL_SECONDS,
      requestEncryption: e.RELEASE_REQUEST_SSE === 'off' ? undefined : { sse: 'aws:kms', kmsKeyId: e.RELEASE_KMS_KEY_ID },
      manifestPrefix: manifestPrefix(e.RELEASE_MANIFEST_PREFIX),
      uploaders: e.RELEASE_UPLOADERS.split(',').map((u) => u.trim()).filter(Boolean),
    },
    hosts: {
      diskDeviceTypes: (e.DISK_DEVICE_TYPES ?? 'disk').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean),
      userMinUid: e.HOST_USER_MIN_UID,
      userHomeRoot: e.HOST_USER_HOME_ROOT.replace(/\/+$/, ''),
    },
  };
}
