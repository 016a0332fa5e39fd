import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_PREFIXES, parseEscapeList, parsePrefixList, prefixProblem } from './artifacts/placeholder-prefixes.js';
import { ConfigError } from './errors.js';
import { fromWeCubeEnvironment } from './wecube-environment.js';
import { DB_TLS_MODES, parseDbTls } from './tls/db-tls.js';
import { HMAC_MIN_KEY_BYTES, MIN_JWT_KEY_BYTES } from './crypto/hmac-key-size.js';
import { readSecretValues } from './secrets/secret-values.js';

// Value parsers. Blank (unset, or serverless.yml's `${env:X, ''}`) means the default, so each default is
// stated once, here. Messages leave the variable out: it is the issue's path, printed as `VARIABLE: message`.

type Ctx = z.RefinementCtx;

const problem = (ctx: Ctx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

/** The trimmed value, or undefined when unset or blank. */
const given = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/**
 * A variable that may also come from the Secrets Manager secret of SECRETS_ID (lib/runtime.ts); a key of
 * the secret that names any other variable is refused.
 */
const secret = given.meta({ secret: true });

const FLAG_WORDS = new Map<string, boolean>([
  ...['true', 'yes', 'y', '1', 'on'].map((w) => [w, true] as const),
  ...['false', 'no', 'n', '0', 'off'].map((w) => [w, false] as const),
]);

// A typo is refused, not read as false: `VARIABLE_NULL_CHECK=ture` would leave placeholders unchecked while
// the operator believes they are checked.
const flag = <F extends boolean | undefined>(fallback: F) =>
  given.transform((v, ctx): boolean | F => {
    if (v === undefined) return fallback;
    return FLAG_WORDS.get(v.toLowerCase()) ?? problem(ctx, `"${v}" is not a boolean (true/false/yes/no/1/0/on/off)`);
  });

const choice = <const T extends readonly [string, ...string[]], F extends T[number] | undefined>(values: T, fallback: F) =>
  given.transform((v, ctx): T[number] | F => {
    if (v === undefined) return fallback;
    return values.find((c) => c === v.toLowerCase()) ?? problem(ctx, `"${v}" is not one of ${values.join(', ')}`);
  });

const int = (fallback: number, min = 1) =>
  given.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isInteger(n) && n >= min ? n : problem(ctx, `must be an integer >= ${min}, got "${v}"`);
  });

const port = given.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : problem(ctx, `must be a TCP port (1-65535), got "${v}"`);
});

const text = (fallback: string) => given.transform((v) => v ?? fallback);

/** Comma-separated, trimmed, blank entries dropped. */
const list = (fallback: string[]) =>
  given.transform((v) =>
    v === undefined
      ? [...fallback]
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
  );

const url = (fallback: string) =>
  text(fallback)
    .pipe(z.url({ error: (issue) => `"${String(issue.input)}" is not a URL` }))
    .transform((u) => u.replace(/\/+$/, ''));

/** A CA file, read once at start: its path (for messages) and its PEM text. */
const caFile = given.transform((path, ctx) => {
  if (path === undefined) return undefined;
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return problem(ctx, `cannot be read: ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
});

const optionalUrl = given.transform((v, ctx) => (v === undefined || URL.canParse(v) ? v : problem(ctx, `"${v}" is not a URL`)));

// Read before the rest (lib/runtime.ts fetches the secret, then parses everything over it), and again with it.
const secretsFields = {
  // A Secrets Manager secret (name or ARN) whose SecretString is a JSON object of the variables marked
  // `secret` above; unset: they come from the environment only.
  SECRETS_ID: given,
  // Seconds a fetched secret is used before the next call fetches it again (0: never refetched).
  SECRETS_TTL_S: int(300, 0),
  // Another Secrets Manager endpoint (tests, a VPC endpoint's DNS name).
  SECRETS_ENDPOINT: optionalUrl,
};

const keyPrefix = (v: string) => v.replace(/^\/+/, '').replace(/\/*$/, '/');

const envFields = z.object({
  STAGE: z.string().default('local'),
  AUTH_MODE: choice(['jwt', 'off'], 'jwt'),
  JWT_SIGNING_KEY: secret,
  LOG_LEVEL: choice(['debug', 'info', 'warn', 'error'], 'info'),
  ENCRYPT_SEED: secret,
  API_CONCURRENT_NUM: int(5),
  // A request with more inputs is refused whole, before any host is touched (WeCube sends one per instance).
  MAX_ITEMS_PER_REQUEST: int(1000),

  // Server mode (lib/server/main.ts, what the WeCube plugin image runs): where it listens, how long a stop
  // waits for requests in flight, and the one override that lets it run with AUTH_MODE=off.
  SERVER_HOST: text('0.0.0.0'),
  SERVER_PORT: port,
  SERVER_SHUTDOWN_GRACE_S: int(25, 0),
  SERVER_INSECURE_ALLOW_NO_AUTH: flag(false),

  SALT_API_URL: url('https://127.0.0.1:8080'),
  SALT_API_EAUTH: choice(['pam', 'file', 'sharedsecret', 'ldap', 'auto'], 'pam'),
  SALT_API_USER: text('saltapi'),
  SALT_API_PASSWORD: secret,
  SALT_API_CA_FILE: caFile,
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

  S3_ENDPOINT: given,
  S3_REGION: text('us-east-1'),
  S3_ACCESS_KEY: secret,
  S3_SECRET_KEY: secret,
  // Upstream's names for the same two credentials, used when the S3_ ones are unset.
  DEFAULT_S3_KEY: secret,
  DEFAULT_S3_PASSWORD: secret,
  S3_BUCKET: given,
  S3_FORCE_PATH_STYLE: flag(true),
  S3_PRESIGN_EXPIRES_S: int(900, 60),

  // Placeholder prefixes and the null check of package-variable/replace, under upstream's names (§8.3).
  SALTSTACK_DEFAULT_SPECIAL_REPLACE: z
    .string()
    .optional()
    .transform((v) => parsePrefixList(v, DEFAULT_PREFIXES.plain)),
  SALTSTACK_ENCRYPT_VARIBLE_PREFIX: z
    .string()
    .optional()
    .transform((v) => parsePrefixList(v, DEFAULT_PREFIXES.doubleRsa)),
  SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX: z
    .string()
    .optional()
    .transform((v) => parsePrefixList(v, DEFAULT_PREFIXES.singleRsa)),
  SALTSTACK_FILE_VARIBLE_PREFIX: z
    .string()
    .optional()
    .transform((v) => parsePrefixList(v, DEFAULT_PREFIXES.file)),
  // Untrimmed, and empty is [""] (matches every key: `+` values stay plain), exactly as upstream.
  SALTSTACK_ENCRYPT_ESCAPE_PREFIX: z.string().optional().transform(parseEscapeList),
  SALTSTACK_VARIABLE_NULL_CHECK: flag(undefined),
  VARIABLE_NULL_CHECK: flag(undefined),

  DB_CONNECT_TIMEOUT_MS: int(10_000),
  DB_QUERY_TIMEOUT_MS: int(300_000),
  // TLS of the MySQL/Redis connections, for every item (callers give only host and port): off by default, as
  // upstream, since callers' servers may not offer TLS; `required` verifies the certificate and the host name.
  MYSQL_TLS: choice(DB_TLS_MODES, 'off'),
  MYSQL_TLS_CA_FILE: caFile,
  REDIS_TLS: choice(DB_TLS_MODES, 'off'),
  REDIS_TLS_CA_FILE: caFile,

  // host-script: default kill timeout of a script, cap of an item's detail, where inline scripts are staged.
  SCRIPT_TIMEOUT_S: int(600),
  SCRIPT_OUTPUT_MAX_CHARS: int(65_536, 1024),
  SCRIPT_TEMP_PREFIX: text('tmp/host-script/'),
  // ssh-run: connection timeout, host key policy, where first-seen host keys are recorded (artifact bucket).
  SSH_CONNECT_TIMEOUT_MS: int(10_000),
  SSH_HOST_KEY_POLICY: choice(['record-on-first-use', 'known-only'], 'record-on-first-use'),
  SSH_KNOWN_HOSTS_PREFIX: text('ssh-known-hosts/'),

  // agent/install: what minions are told (masters as seen from the hosts, ports), where their config lives,
  // the default install method, the bootstrap script URL, and the bounds of each step.
  AGENT_MINION_MASTERS: list([]),
  AGENT_MINION_MASTER_PORT: int(4506),
  AGENT_MINION_PUBLISH_PORT: port,
  AGENT_MINION_CONFIG_DIR: text('/etc/salt').transform((v) => v.replace(/(.)\/+$/, '$1')),
  AGENT_MINION_BIN: text('salt-minion'),
  AGENT_INSTALL_METHOD: choice(['repository', 'bootstrap', 'bundle', 'preinstalled'], 'repository'),
  AGENT_BUNDLE_URL: given,
  AGENT_BOOTSTRAP_URL: text('https://github.com/saltstack/salt-bootstrap/releases/latest/download/bootstrap-salt.sh'),
  AGENT_COMMAND_TIMEOUT_S: int(300),
  AGENT_KEY_WAIT_S: int(60),
  AGENT_PING_WAIT_S: int(60),

  // Host operations: which lsblk device types count as data disks, the lowest uid host-user may touch.
  DISK_DEVICE_TYPES: list(['disk']).transform((types) => types.map((t) => t.toLowerCase())),
  HOST_USER_MIN_UID: int(1000, 0),
  // host-user/delete purges a home (userdel -r) only below this directory, and only when the user owns it.
  HOST_USER_HOME_ROOT: text('/home').transform((v, ctx) =>
    /^(\/[^/\0]+)+\/?$/.test(v) && !v.split('/').includes('..')
      ? v.replace(/\/+$/, '')
      : problem(ctx, `must be an absolute directory other than /, without .., got "${v}"`),
  ),

  // Releases: where the state machine runs (AWS Step Functions, or in-process on the same ASL file; unset:
  // local on the local stage, aws elsewhere), its ARN on AWS, where release records live in the artifact
  // bucket, the distribution job poll interval.
  RELEASE_RUNNER: choice(['aws', 'local'], undefined),
  RELEASE_STATE_MACHINE_ARN: given,
  RELEASE_PREFIX: text('.saltstack-releases/').transform(keyPrefix),
  RELEASE_POLL_SECONDS: int(3),
  // The release request record (the one object holding a release's secrets) is written SSE-KMS, with
  // this key (id, ARN or alias; empty = the bucket's default / the AWS managed key); `off` for an
  // S3-compatible server without KMS.
  RELEASE_KMS_KEY_ID: given,
  RELEASE_REQUEST_SSE: choice(['aws:kms', 'off'], 'aws:kms'),
  // S3-started releases: manifests are taken only under this prefix, and only from these uploaders
  // (S3 event principalIds, comma-separated; `*` = anyone who can write there; empty = none).
  // Blank is refused, not defaulted: an empty prefix would take manifests from the whole bucket, which the
  // S3 notification filter (serverless.yml, same value) cannot say.
  RELEASE_MANIFEST_PREFIX: z
    .string()
    .default('releases/')
    .transform((v, ctx) => {
      const prefix = keyPrefix(v.trim());
      return prefix === '/' ? problem(ctx, 'must name a key prefix (e.g. releases/), got an empty one') : prefix;
    }),
  RELEASE_UPLOADERS: list([]),
  ...secretsFields,
  // Release events (lib/releases/release-events.ts): an EventBridge bus (name or ARN; unset = none; on AWS
  // serverless.yml names one), EVENTS_ENDPOINT only for a stand-in of EventBridge (tests, LocalStack); a
  // webhook POSTed every event, signed with the secret (required with the URL), bounded in time and attempts.
  RELEASE_EVENT_BUS: given,
  EVENTS_ENDPOINT: given.pipe(z.url({ error: (issue) => `"${String(issue.input)}" is not a URL` }).optional()),
  RELEASE_WEBHOOK_URL: given.pipe(
    z.url({ protocol: /^https?$/, error: (issue) => `"${String(issue.input).replace(/[?#].*$/, '')}" is not an http(s) URL` }).optional(),
  ),
  RELEASE_WEBHOOK_SECRET: secret,
  RELEASE_WEBHOOK_TIMEOUT_MS: int(5_000),
  RELEASE_WEBHOOK_ATTEMPTS: int(3, 1),
});

type Env = z.output<typeof envFields>;
type EnvName = keyof Env & string;

/** The region of a secret named by its ARN (`arn:<partition>:secretsmanager:<region>:...`). */
const regionOfArn = (id: string): string | undefined => /^arn:[\w-]+:secretsmanager:([a-z0-9-]+):/.exec(id)?.[1];

function secretsSettingsOf(e: Pick<Env, 'SECRETS_ID' | 'SECRETS_TTL_S' | 'SECRETS_ENDPOINT'>) {
  if (!e.SECRETS_ID) return undefined;
  return { id: e.SECRETS_ID, ttlS: e.SECRETS_TTL_S, endpoint: e.SECRETS_ENDPOINT, region: regionOfArn(e.SECRETS_ID) };
}

/** Where the secret variables come from: SECRETS_ID and how it is read (lib/runtime.ts). */
export type SecretsSettings = NonNullable<ReturnType<typeof secretsSettingsOf>>;

// Values that depend on several variables. Each throws a ConfigError whose message starts with the
// variable to fix; the same function checks (every problem at once, below) and builds (toConfig).

function checkAuthMode(e: Env): void {
  if (e.AUTH_MODE === 'off' && e.STAGE !== 'local') {
    throw new ConfigError(`AUTH_MODE=off is only allowed when STAGE=local (STAGE is "${e.STAGE}")`);
  }
}

function jwtKeyOf(e: Env): Uint8Array | undefined {
  if (e.AUTH_MODE !== 'jwt') return undefined;
  if (!e.JWT_SIGNING_KEY) throw new ConfigError('JWT_SIGNING_KEY: required when AUTH_MODE=jwt (there is no default key)');
  return decodeJwtKey(e.JWT_SIGNING_KEY);
}

function checkSaltTls(e: Env): void {
  if (e.SALT_API_INSECURE && e.SALT_API_CA_FILE) {
    throw new ConfigError('SALT_API_INSECURE and SALT_API_CA_FILE are mutually exclusive: verify against the CA, or do not verify');
  }
}

function s3CredentialsOf(e: Env): { accessKeyId: string; secretAccessKey: string } | undefined {
  const accessKeyId = e.S3_ACCESS_KEY ?? e.DEFAULT_S3_KEY;
  const secretAccessKey = e.S3_SECRET_KEY ?? e.DEFAULT_S3_PASSWORD;
  if (!accessKeyId && !secretAccessKey) return undefined;
  const together = 'S3_ACCESS_KEY and S3_SECRET_KEY are set together, or neither for the AWS role';
  if (!accessKeyId) throw new ConfigError(`S3_ACCESS_KEY: required when S3_SECRET_KEY is set (${together})`);
  if (!secretAccessKey) throw new ConfigError(`S3_SECRET_KEY: required when S3_ACCESS_KEY is set (${together})`);
  return { accessKeyId, secretAccessKey };
}

/** The webhook of release events: URL and secret together (an unsigned webhook could be forged by anyone). */
function webhookOf(e: Env) {
  if (!e.RELEASE_WEBHOOK_URL && !e.RELEASE_WEBHOOK_SECRET) return undefined;
  if (!e.RELEASE_WEBHOOK_URL) throw new ConfigError('RELEASE_WEBHOOK_URL: required when RELEASE_WEBHOOK_SECRET is set (where to POST release events)');
  if (!e.RELEASE_WEBHOOK_SECRET) {
    throw new ConfigError('RELEASE_WEBHOOK_SECRET: required when RELEASE_WEBHOOK_URL is set (the key receivers verify each event with)');
  }
  if (Buffer.byteLength(e.RELEASE_WEBHOOK_SECRET) < MIN_JWT_KEY_BYTES) {
    throw new ConfigError(`RELEASE_WEBHOOK_SECRET: must be at least ${MIN_JWT_KEY_BYTES} bytes (an HMAC-SHA256 key), e.g. \`openssl rand -hex 32\``);
  }
  return {
    url: e.RELEASE_WEBHOOK_URL,
    secret: e.RELEASE_WEBHOOK_SECRET,
    timeoutMs: e.RELEASE_WEBHOOK_TIMEOUT_MS,
    attempts: e.RELEASE_WEBHOOK_ATTEMPTS,
  };
}

function placeholdersOf(e: Env) {
  const placeholders = {
    plain: e.SALTSTACK_DEFAULT_SPECIAL_REPLACE,
    doubleRsa: e.SALTSTACK_ENCRYPT_VARIBLE_PREFIX,
    singleRsa: e.SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX,
    file: e.SALTSTACK_FILE_VARIBLE_PREFIX,
  };
  const trouble = prefixProblem(placeholders);
  if (trouble) {
    throw new ConfigError(
      `SALTSTACK_DEFAULT_SPECIAL_REPLACE / SALTSTACK_ENCRYPT_VARIBLE_PREFIX / SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX / SALTSTACK_FILE_VARIBLE_PREFIX: ${trouble}`,
    );
  }
  return placeholders;
}

// The CA file was read by its parser; parseDbTls gets its text, so the file is read once.
const mysqlTlsOf = (e: Env) => parseDbTls('MYSQL', e.MYSQL_TLS, e.MYSQL_TLS_CA_FILE?.path, () => e.MYSQL_TLS_CA_FILE!.text);
const redisTlsOf = (e: Env) => parseDbTls('REDIS', e.REDIS_TLS, e.REDIS_TLS_CA_FILE?.path, () => e.REDIS_TLS_CA_FILE!.text);

const PREFIX_VARIABLES = [
  'SALTSTACK_DEFAULT_SPECIAL_REPLACE',
  'SALTSTACK_ENCRYPT_VARIBLE_PREFIX',
  'SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX',
  'SALTSTACK_FILE_VARIBLE_PREFIX',
] as const;

/** Rules over several variables: `variable` is where the problem is filed, `uses` what must have parsed first. */
const RULES: { variable: EnvName; uses: readonly EnvName[]; check: (e: Env) => unknown }[] = [
  { variable: 'AUTH_MODE', uses: ['AUTH_MODE', 'STAGE'], check: checkAuthMode },
  { variable: 'JWT_SIGNING_KEY', uses: ['AUTH_MODE', 'JWT_SIGNING_KEY'], check: jwtKeyOf },
  { variable: 'SALT_API_INSECURE', uses: ['SALT_API_INSECURE', 'SALT_API_CA_FILE'], check: checkSaltTls },
  { variable: 'S3_ACCESS_KEY', uses: ['S3_ACCESS_KEY', 'S3_SECRET_KEY', 'DEFAULT_S3_KEY', 'DEFAULT_S3_PASSWORD'], check: s3CredentialsOf },
  { variable: 'SALTSTACK_DEFAULT_SPECIAL_REPLACE', uses: PREFIX_VARIABLES, check: placeholdersOf },
  { variable: 'MYSQL_TLS_CA_FILE', uses: ['MYSQL_TLS', 'MYSQL_TLS_CA_FILE'], check: mysqlTlsOf },
  { variable: 'REDIS_TLS_CA_FILE', uses: ['REDIS_TLS', 'REDIS_TLS_CA_FILE'], check: redisTlsOf },
  { variable: 'RELEASE_WEBHOOK_SECRET', uses: ['RELEASE_WEBHOOK_URL', 'RELEASE_WEBHOOK_SECRET'], check: webhookOf },
];

// zod skips refinements once a field has failed; `when` makes the rules run anyway (unless the input is not
// an object at all), each only on variables that parsed, so one start-up reports every problem, not the first.
function checkRules(e: Env, ctx: z.core.$RefinementCtx<Env>): void {
  const failed = new Set(ctx.issues.map((issue) => issue.path?.[0]));
  for (const rule of RULES) {
    if (rule.uses.some((name) => failed.has(name))) continue;
    try {
      rule.check(e);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.addIssue({ code: 'custom', path: [rule.variable], message: error.message });
    }
  }
}

/** The nested Config shape, built from variables that all parsed and passed the rules. */
function toConfig(e: Env) {
  return {
    stage: e.STAGE,
    authMode: e.AUTH_MODE,
    /** Decoded HMAC key bytes, absent only when authMode is off. */
    jwtKey: jwtKeyOf(e),
    logLevel: e.LOG_LEVEL,
    encryptSeed: e.ENCRYPT_SEED,
    itemConcurrency: e.API_CONCURRENT_NUM,
    /** Inputs one request may carry (MAX_ITEMS_PER_REQUEST); more are refused before anything runs. */
    maxItemsPerRequest: e.MAX_ITEMS_PER_REQUEST,
    /** Server mode only (lib/server/main.ts); the Lambdas and `npm start` ignore it. */
    server: {
      host: e.SERVER_HOST,
      port: e.SERVER_PORT ?? 8082,
      /** Seconds a SIGTERM waits for requests in flight before the process exits. */
      shutdownGraceS: e.SERVER_SHUTDOWN_GRACE_S,
      /** AUTH_MODE=off is refused by the server unless this is set (and STAGE=local, as everywhere). */
      insecureAllowNoAuth: e.SERVER_INSECURE_ALLOW_NO_AUTH,
    },
    salt: {
      url: e.SALT_API_URL,
      eauth: e.SALT_API_EAUTH,
      username: e.SALT_API_USER,
      password: e.SALT_API_PASSWORD ?? '',
      /** PEM text of SALT_API_CA_FILE. */
      ca: e.SALT_API_CA_FILE?.text,
      insecure: e.SALT_API_INSECURE,
      timeoutMs: e.SALT_API_TIMEOUT_MS,
      loginTimeoutMs: e.SALT_API_LOGIN_TIMEOUT_MS,
      jobTimeoutS: e.SALT_JOB_TIMEOUT_S,
      /** Salt jobs in flight at once from this process: on one minion, and in all (the rest queue). */
      maxJobsPerMinion: e.SALT_MAX_JOBS_PER_MINION,
      maxJobs: e.SALT_MAX_JOBS,
      /** Bytes of one salt-api reply read at most (SALT_REPLY_MAX_BYTES); past it the call fails. */
      replyMaxBytes: e.SALT_REPLY_MAX_BYTES,
    },
    saltApiCallEnabled: e.SALT_API_CALL_ENABLED,
    s3: {
      /** Custom endpoint (MinIO, s3rver...); undefined means AWS S3 itself. */
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      /** Static credentials; undefined means the default AWS chain (the Lambda role). */
      credentials: s3CredentialsOf(e),
      /** Bucket for artifacts the plugin writes (re-packed packages, release results). */
      bucket: e.S3_BUCKET,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      presignExpiresS: e.S3_PRESIGN_EXPIRES_S,
    },
    /** Placeholder prefixes of package-variable/replace (plain, double-RSA, single-RSA, whole-file). */
    placeholders: placeholdersOf(e),
    /** Single-RSA (`+`) placeholders whose key matches one of these (upstream's regex) get the plain value. */
    encryptEscape: e.SALTSTACK_ENCRYPT_ESCAPE_PREFIX,
    /** Unresolved placeholders (and legacy `NULL\x01` values) are an error, not left in place. */
    variableNullCheck: e.SALTSTACK_VARIABLE_NULL_CHECK ?? e.VARIABLE_NULL_CHECK ?? false,
    /** MySQL/MariaDB and Redis connections the database operations open per item. */
    db: {
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      /** Bound of one SQL statement or Redis command; a statement past it is killed on the server. */
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
      /** MYSQL_TLS=required: TLS verified against this CA (undefined: plain connections). */
      mysqlTls: mysqlTlsOf(e),
      /** REDIS_TLS=required: TLS verified against this CA (undefined: plain connections). */
      redisTls: redisTlsOf(e),
    },
    /** host-script operations. */
    scripts: {
      /** Seconds before a script is killed when the item gives no `timeout`. */
      timeoutS: e.SCRIPT_TIMEOUT_S,
      /** An item's detail is capped at this many characters (beginning and end kept). */
      outputMaxChars: e.SCRIPT_OUTPUT_MAX_CHARS,
      /** Key prefix (in the artifact bucket) of the temporary objects holding inline scripts. */
      tempPrefix: e.SCRIPT_TEMP_PREFIX,
    },
    /** host-script/ssh-run. */
    ssh: {
      connectTimeoutMs: e.SSH_CONNECT_TIMEOUT_MS,
      /** `record-on-first-use`: an unknown host's key is recorded and trusted; `known-only`: refused. */
      hostKeyPolicy: e.SSH_HOST_KEY_POLICY,
      /** Key prefix (in the artifact bucket) of the recorded host keys, one object per host:port. */
      knownHostsPrefix: e.SSH_KNOWN_HOSTS_PREFIX,
    },
    /** agent/install and agent/uninstall. */
    agent: {
      /** Master addresses written into the minion config (`master`); empty means install is refused. */
      masters: e.AGENT_MINION_MASTERS,
      masterPort: e.AGENT_MINION_MASTER_PORT,
      publishPort: e.AGENT_MINION_PUBLISH_PORT,
      /** Minion config dir on the hosts; `/etc/salt` uses systemd where it exists, any other dir starts salt-minion directly. */
      configDir: e.AGENT_MINION_CONFIG_DIR,
      /** The salt-minion program on the hosts (a name on PATH or an absolute path). */
      minionBin: e.AGENT_MINION_BIN,
      defaultMethod: e.AGENT_INSTALL_METHOD,
      bootstrapUrl: e.AGENT_BOOTSTRAP_URL,
      /** S3 endpoint of the offline bundle (method bundle); hosts get a presigned URL of it. */
      bundleUrl: e.AGENT_BUNDLE_URL,
      /** Bound of each command run over SSH (pre-command, install, uninstall). */
      commandTimeoutS: e.AGENT_COMMAND_TIMEOUT_S,
      /** How long to wait for the minion's key to reach the master, then for test.ping to answer. */
      keyWaitS: e.AGENT_KEY_WAIT_S,
      pingWaitS: e.AGENT_PING_WAIT_S,
    },
    /** Releases (the release state machine). */
    releases: {
      /** `local`: the ASL runs in-process (aws-local-stepfunctions); `aws`: AWS Step Functions. */
      runner: e.RELEASE_RUNNER ?? (e.STAGE === 'local' ? ('local' as const) : ('aws' as const)),
      stateMachineArn: e.RELEASE_STATE_MACHINE_ARN,
      /** Key prefix of release records in the artifact bucket (request, plan, per-host progress, result). */
      prefix: e.RELEASE_PREFIX,
      /** Seconds between two looks at a distribution job (the state machine's Wait). */
      pollSeconds: e.RELEASE_POLL_SECONDS,
      /** Server-side encryption of the request record (it holds the secrets until the release ends). */
      requestEncryption: e.RELEASE_REQUEST_SSE === 'off' ? undefined : { sse: 'aws:kms' as const, kmsKeyId: e.RELEASE_KMS_KEY_ID },
      /** Key prefix (ending in `/`) under which `*.release.json` manifests start releases. */
      manifestPrefix: e.RELEASE_MANIFEST_PREFIX,
      /** S3 event principalIds allowed to start releases by manifest; `*` = anyone, an entry ending in `*` a prefix; empty = nobody. */
      uploaders: e.RELEASE_UPLOADERS,
      /** Where release events go; neither set: nowhere. Publishing never fails a release. */
      events: {
        /** EventBridge bus name or ARN (source `saltstack-plugin`); undefined: no EventBridge. */
        bus: e.RELEASE_EVENT_BUS,
        /** EventBridge endpoint override (a stand-in for AWS); undefined: the region's endpoint. */
        endpoint: e.EVENTS_ENDPOINT,
        /** POST of every event, signed `X-Saltstack-Signature: sha256=<HMAC(secret, timestamp.body)>`; undefined: none. */
        webhook: webhookOf(e),
      },
    },
    /** The Secrets Manager secret the variables marked secret came from (undefined: the environment only). */
    secrets: secretsSettingsOf(e),
    /** Host operations (disk, host-user). */
    hosts: {
      /** lsblk TYPEs that disk/* treats as data disks (default `disk`; tests use `loop`). */
      diskDeviceTypes: e.DISK_DEVICE_TYPES,
      /** Existing accounts below this uid (root, daemons) are never changed or deleted by host-user. */
      userMinUid: e.HOST_USER_MIN_UID,
      /** host-user/delete removes a home only when it is below this directory and owned by the user. */
      userHomeRoot: e.HOST_USER_HOME_ROOT,
    },
  };
}

/** The environment (flat variables) to the nested Config: every default, rule and mapping lives here. */
export const configSchema = envFields
  .superRefine(checkRules, { when: (payload) => payload.issues.every((issue) => (issue.path?.length ?? 0) > 0) })
  .transform(toConfig);

/** The parsed configuration: the only view of process.env the rest of the code gets. */
export type Config = z.output<typeof configSchema>;

/** The variables the schema reads (everything else in the environment is ignored). */
export const CONFIG_VARIABLES = Object.keys(envFields.shape) as EnvName[];

/** The variables the schema marks secret: the only ones the secret of SECRETS_ID may set. */
export const SECRET_VARIABLES = CONFIG_VARIABLES.filter((name) => envFields.shape[name].meta()?.['secret'] === true);

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
    const sizes = Object.entries(HMAC_MIN_KEY_BYTES)
      .map(([alg, n]) => `${alg} ${n}`)
      .join(', ');
    throw new ConfigError(
      `JWT_SIGNING_KEY decodes to ${bytes.length} bytes: an HMAC key must be at least as long as its hash (${sizes} bytes), ` +
        'so set the same new key (e.g. `openssl rand -base64 64`) on the WeCube platform and here',
    );
  }
  return new Uint8Array(bytes);
}

// A message that already starts with a variable name (`AUTH_MODE=off is only...`) is kept as it is.
const problemLine = (issue: z.core.$ZodIssue): string => {
  const variable = issue.path.length > 0 ? String(issue.path[0]) : '';
  const leading = /^[A-Z][A-Z0-9_]*/.exec(issue.message)?.[0];
  return !variable || (leading !== undefined && CONFIG_VARIABLES.includes(leading as EnvName)) ? issue.message : `${variable}: ${issue.message}`;
};

const oneError = (problems: string[]) =>
  new ConfigError(problems.length === 1 ? problems[0]! : `Configuration has ${problems.length} problems: ${problems.join('; ')}`);

const secretsSchema = z.object(secretsFields).transform(secretsSettingsOf);

/**
 * SECRETS_ID and how to read it, from the environment alone (the secret is fetched before the rest is
 * parsed over it); undefined without SECRETS_ID. Throws ConfigError listing every problem of these variables.
 */
export function loadSecretsSettings(env: Record<string, string | undefined> = process.env): SecretsSettings | undefined {
  const parsed = secretsSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw oneError(parsed.error.issues.map(problemLine));
}

/**
 * Parses and checks the environment once, with the variables of `secret` (the SecretString of SECRETS_ID)
 * over it. Throws one ConfigError listing every problem, each starting with the variable to fix (a single
 * problem is the whole message); a key of the secret that is not a secret variable is one, named.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, secret?: { id: string; text: string }): Config {
  const fromSecret = secret ? readSecretValues(secret.id, secret.text, SECRET_VARIABLES) : { values: {}, problems: [] };
  // WeCube's names (minion_master_ip, SALTSTACK_LOG_LEVEL, S3_SERVER_URL) and rsa@ values, read first.
  const wecube = fromWeCubeEnvironment({ ...env, ...fromSecret.values });
  const parsed = configSchema.safeParse(wecube.env);
  if (parsed.success && !wecube.problems.length && !fromSecret.problems.length) return parsed.data;
  const own = new Set(wecube.problems.map((p) => p.variable));
  const problems = [
    ...fromSecret.problems.map((p) => `${p.variable}: ${p.message}`),
    ...wecube.problems.map((p) => `${p.variable}: ${p.message}`),
    // a variable whose rsa@ value failed is not also reported as missing
    ...(parsed.success ? [] : parsed.error.issues).map(problemLine).filter((line) => !own.has(line.split(':', 1)[0]!)),
  ];
  throw oneError(problems);
}
