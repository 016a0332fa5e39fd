/**
 * THE list of what the plugin deploys: every operation (plugin/action, its old-guide aliases, whether it
 * calls salt, how long it may take) and every other function (the OpenAPI document, the release trigger and
 * tasks). Data only, so that any handler may import it at no cost. Everything else is derived from it or
 * checked against it by test/unit/registry.test.ts, which fails on any drift:
 *   - `functions/<plugin>-<action>.ts`: one per operation (the handler binding its core; the test checks that
 *     it exports this operation and that no other function file exists);
 *   - the HTTP routes (lib/wecube/routes.ts), which the router (functions/router.ts) serves too, and the
 *     serverless function declarations (`serverless/functions.yml`, written by `npm run generate`);
 *   - `openapi.json` (also `npm run generate`), one path per route, schemas as `$ref` components.
 *
 * Adding an operation: its core and WeCube adapter under lib/<domain>/, one line here, its
 * functions/<plugin>-<action>.ts (four lines like its neighbours), then `npm run generate` (which also writes
 * lib/router/function-loaders.ts, the list the router and the one-bundle server load operations from).
 */

/** The serverless file section an entry is declared in (one per domain, in this order). */
export const GROUPS = {
  foundation: 'Foundation: password helpers, host-info, salt-api passthrough, the OpenAPI document, the router (one Function URL serving every route).',
  databases:
    'Databases: SQL scripts and queries, MySQL schemas and accounts, Redis ACL users (DB_CONNECT_TIMEOUT_MS / DB_QUERY_TIMEOUT_MS bound each connection and statement).',
  packages: 'Packages: placeholder substitution in S3 packages, package browsing.',
  'host-script': 'host-script: scripts on hosts over salt (inline, from S3, with per-host parameters), and over SSH for hosts without a minion.',
  host: 'Host operations over salt: files, users, disks.',
  agent: 'agent: SSH to the host, install/remove salt-minion, accept/delete its key (waits for the package, the key and test.ping).',
  deploy: "apply-deployment: WeCube's synchronous deployments (new, update, delete); rolling, resumable ones are releases.",
  releases:
    'Releases: the HTTP calls that start a release and report on it, the S3 trigger of release manifests (under RELEASE_MANIFEST_PREFIX only; the handler re-checks prefix and uploader), and the tasks of the release state machine (state-machines/release.asl.json).',
} as const;
export type Group = keyof typeof GROUPS;

/**
 * - `quick`: bounded work that is not salt's (crypto, one database or S3 call): fits API Gateway's 30 s.
 * - `long`: may outlast 30 s (salt jobs, which may also queue behind others under load; packages; SQL
 *   scripts; SSH): call it through the router's Function URL (15 min) or as a Step Functions task; its
 *   HTTP API route cuts it at 30 s.
 * Every operation has its HTTP API routes and is served by the router whatever its class.
 */
export type TimeoutClass = 'quick' | 'long';

/**
 * The AWS calls a function's code makes (read from its core; least privilege per function, issue 14):
 * its role grants the statements of these needs and nothing else (serverless.yml, custom.lambdaIam), plus
 * what every function gets (its own log group, X-Ray, ENIs when in the stage's VPC). Functions with the
 * same needs (and VPC placement) share a role: serverless/roles.yml, written by `npm run generate`.
 */
export const AWS_NEEDS = {
  's3-read': 'GetObject (and HeadObject, presigned GETs) on the artifact bucket, ListBucket (a missing key is 404, not 403), KMS Decrypt',
  's3-write': 'PutObject (multipart too, CopyObject targets) on the artifact bucket, KMS GenerateDataKey/Decrypt',
  's3-delete': 'DeleteObject on the artifact bucket (staging objects, normalised packages, secrets of ended releases)',
  'states-start': 'StartExecution of the release state machine',
  'states-read': 'DescribeExecution of its executions',
  'sqs-failure': "SendMessage to the release trigger's failure queue (its on-failure destination)",
  'events-put': 'PutEvents on the release event bus (release started, batch ended, host failed, stopped, ended)',
} as const;
export type AwsNeed = keyof typeof AWS_NEEDS;

const READ: readonly AwsNeed[] = ['s3-read'];
const READ_WRITE: readonly AwsNeed[] = ['s3-read', 's3-write'];
const READ_WRITE_DELETE: readonly AwsNeed[] = ['s3-read', 's3-write', 's3-delete'];

export interface OperationEntry {
  kind: 'operation';
  plugin: string;
  action: string;
  group: Group;
  /** Calls salt-api: takes SALT_FUNCTION_CONCURRENCY as its reserved concurrency on AWS. */
  salt: boolean;
  timeout: TimeoutClass;
  /** Every path that reaches it besides `/saltstack/v1/<plugin>/<action>`: the old API guide's, deprecated. */
  aliases: readonly string[];
  /** The AWS APIs its core calls (none: salt, databases, SSH or crypto only). */
  aws: readonly AwsNeed[];
}

/**
 * A function that is not a WeCube operation. `router`: the one Function URL (15 min) serving every route
 * of every operation and the OpenAPI document in-process (functions/router.ts), for callers with one base URL.
 */
export interface FunctionEntry {
  kind: 'openapi' | 'router' | 'release-trigger' | 'release-task';
  /** Its file under functions/ (without .ts) and its serverless name. */
  file: string;
  group: Group;
  /** The AWS APIs it calls; the router's is the union of every operation's (see needsOf in scripts/lib/serverless-functions.ts). */
  aws: readonly AwsNeed[];
}

export type RegistryEntry = OperationEntry | FunctionEntry;

/** An operation; the generic legacy alias `/v1/deploy/<plugin>/<action>` is always first. */
function op(
  plugin: string,
  action: string,
  group: Group,
  traits: { salt?: true; timeout: TimeoutClass; aws?: readonly AwsNeed[] },
  oldNames: readonly string[] = [],
): OperationEntry {
  return {
    kind: 'operation',
    plugin,
    action,
    group,
    salt: traits.salt ?? false,
    timeout: traits.timeout,
    aliases: [`/v1/deploy/${plugin}/${action}`, ...oldNames],
    aws: traits.aws ?? [],
  };
}

export const REGISTRY: readonly RegistryEntry[] = [
  op('password', 'encode', 'foundation', { timeout: 'quick' }),
  op('password', 'decode', 'foundation', { timeout: 'quick' }),
  op('password', 'sshkeygen', 'foundation', { timeout: 'quick' }),
  op('host-info', 'query', 'foundation', { salt: true, timeout: 'long' }),
  // agent: the bundle's presigned URL; host keys learnt on first use kept in S3 (lib/ssh/s3-known-hosts.ts)
  op('agent', 'install', 'agent', { salt: true, timeout: 'long', aws: READ_WRITE }),
  op('agent', 'uninstall', 'agent', { salt: true, timeout: 'long', aws: READ_WRITE }),
  op('salt-api', 'call', 'foundation', { salt: true, timeout: 'long' }),
  // S3 scripts by presigned URL (HEAD first); inline content staged under a temporary key, removed after
  op('host-script', 'run', 'host-script', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/script/run']),
  op('host-script', 'run-local', 'host-script', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/script/run-local']),
  op('host-script', 'run-s3', 'host-script', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/script/run-s3']),
  op('host-script', 'run-user-param', 'host-script', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/script/run-user-param']),
  // S3 scripts read and sent over SSH; host keys kept in S3
  op('host-script', 'ssh-run', 'host-script', { timeout: 'long', aws: READ_WRITE }, ['/v1/deploy/script/ssh-run']),
  op('mysql-script', 'run', 'databases', { timeout: 'long', aws: READ }, [
    '/v1/deploy/mysql-script/runScript',
    '/v1/deploy/database/run',
    '/v1/deploy/database/runScript',
  ]),
  op('mysql-script', 'run-custom-sql', 'databases', { timeout: 'long' }, ['/v1/deploy/database/run-custom-sql']),
  op('mysql-database', 'add', 'databases', { timeout: 'quick' }),
  op('mysql-database', 'delete', 'databases', { timeout: 'quick' }),
  op('mysql-user', 'add', 'databases', { timeout: 'quick' }),
  op('mysql-user', 'delete', 'databases', { timeout: 'quick' }),
  op('mysql-user', 'change-password', 'databases', { timeout: 'quick' }),
  op('redis-user', 'add', 'databases', { timeout: 'quick' }),
  op('redis-user', 'delete', 'databases', { timeout: 'quick' }),
  // reads the package, writes a staging object, copies it to its final name, removes the staging object
  op('package-variable', 'replace', 'packages', { timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/variable/replace']),
  op('released-package', 'listCurrentDir', 'packages', { timeout: 'quick', aws: READ }),
  op('released-package', 'getConfigFileKey', 'packages', { timeout: 'long', aws: READ }),
  // the package by presigned URL, an archive re-written normalised for hosts to unpack (removed after)
  op('host-file', 'copy', 'host', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/file/copy']),
  // inline content staged in S3, fetched by presigned URL, removed after
  op('host-file', 'create', 'host', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }, ['/v1/deploy/file/create']),
  op('host-file', 'find', 'host', { salt: true, timeout: 'long' }, ['/v1/deploy/file/find']),
  op('host-file', 'delete', 'host', { salt: true, timeout: 'long' }, ['/v1/deploy/file/delete']),
  op('host-user', 'add', 'host', { salt: true, timeout: 'long' }, ['/v1/deploy/user/add']),
  op('host-user', 'delete', 'host', { salt: true, timeout: 'long' }, ['/v1/deploy/host-user/remove', '/v1/deploy/user/delete', '/v1/deploy/user/remove']),
  op('host-user', 'password', 'host', { salt: true, timeout: 'long' }, ['/v1/deploy/user/password']),
  op('disk', 'getUnformatedDisk', 'host', { salt: true, timeout: 'long' }),
  op('disk', 'formatAndMountDisk', 'host', { salt: true, timeout: 'long' }),
  // the package substituted and normalised (as package-variable/replace, host-file/copy), dropped after
  op('apply-deployment', 'new', 'deploy', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }),
  op('apply-deployment', 'update', 'deploy', { salt: true, timeout: 'long', aws: READ_WRITE_DELETE }),
  op('apply-deployment', 'delete', 'deploy', { salt: true, timeout: 'long' }),
  // release/start writes the request record (SSE-KMS) and starts the execution; status and stop read the
  // records and describe it; stop writes its stop record
  op('release', 'start', 'releases', { timeout: 'quick', aws: ['s3-write', 'states-start', 'events-put'] }),
  op('release', 'status', 'releases', { timeout: 'quick', aws: ['s3-read', 'states-read'] }),
  op('release', 'stop', 'releases', { timeout: 'quick', aws: ['s3-read', 's3-write', 'states-read', 'events-put'] }),
  // release/list: the newest-first index and each release's listing record
  op('release', 'list', 'releases', { timeout: 'quick', aws: ['s3-read'] }),
  { kind: 'openapi', file: 'openapi', group: 'foundation', aws: [] },
  // the router serves every operation in-process: its role is the union of theirs (needsOf)
  { kind: 'router', file: 'router', group: 'foundation', aws: [] },
  // reads the manifest, writes its result next to it, checks and starts the execution, failures to SQS
  {
    kind: 'release-trigger',
    file: 'release-trigger',
    group: 'releases',
    aws: ['s3-read', 's3-write', 'states-read', 'states-start', 'sqs-failure', 'events-put'],
  },
  // Prepare: the request record, the package substituted and normalised, the release record
  { kind: 'release-task', file: 'release-prepare', group: 'releases', aws: READ_WRITE_DELETE },
  // a host step: the records read and its host record written, the package by presigned URL
  { kind: 'release-task', file: 'release-host-step', group: 'releases', aws: [...READ_WRITE, 'events-put'] },
  // a slice: its hosts from the release record (the request record read to mask its secrets), its tally
  { kind: 'release-task', file: 'release-slice', group: 'releases', aws: READ },
  // Advance: reads the stop record, writes the progress record release/stop numbers its event from
  { kind: 'release-task', file: 'release-advance', group: 'releases', aws: [...READ_WRITE, 'events-put'] },
  // Finish: host and result records, the request record rewritten without its secrets, packages removed
  { kind: 'release-task', file: 'release-finish', group: 'releases', aws: [...READ_WRITE_DELETE, 'events-put'] },
];

/** The operations of the registry. */
export const OPERATIONS: readonly OperationEntry[] = REGISTRY.filter((e): e is OperationEntry => e.kind === 'operation');

/** The file under functions/ (without .ts) that serves an entry. */
export const functionFile = (entry: RegistryEntry): string => (entry.kind === 'operation' ? `${entry.plugin}-${entry.action}` : entry.file);

/** The serverless (and CloudFormation) name of an entry's function: its file name in camelCase. */
export const functionName = (entry: RegistryEntry): string => functionFile(entry).replace(/-([a-zA-Z])/g, (_, c: string) => c.toUpperCase());

/** The current path of an operation. */
export const currentPath = (entry: Pick<OperationEntry, 'plugin' | 'action'>): string => `/saltstack/v1/${entry.plugin}/${entry.action}`;
