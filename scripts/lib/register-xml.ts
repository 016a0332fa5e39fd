/**
 * register.xml, what WeCube reads from a plugin zip to register the plugin (wecube-platform's
 * platform-core/models.RegisterXML: package dependencies, system parameters, the docker and S3 resources,
 * and every plugin interface with its input and output parameters). Generated, like openapi.json, from the
 * registry (lib/registry.ts) and the operations' own zod schemas: parameter names, datatypes, `required` and
 * descriptions come from the schemas; the WeCube-only attributes (which system variable fills a parameter,
 * which parameters are sensitive, constant or context-mapped) follow a few naming rules, and where upstream's
 * template (test/fixtures/upstream/register.xml.tpl) says otherwise, the OVERRIDES table below. The unit test
 * test/unit/wecube/register-xml.test.ts compares the result with that template interface by interface.
 */
import { DEFAULT_PREFIXES } from '../../lib/artifacts/placeholder-prefixes.js';
import { currentPath, OPERATIONS } from '../../lib/registry.js';
import type { Operation } from '../../lib/wecube/operation.js';
import { jsonSchema } from '../../lib/wecube/openapi.js';

/** The package name: WeCube's gateway routes `/saltstack/...` to the plugin by it, as for upstream. */
export const PACKAGE_NAME = 'saltstack';
/** The port the server listens on inside the container (upstream's). */
export const CONTAINER_PORT = 8082;
/** Upstream's binding: WeCube allocates the host port. */
export const DEFAULT_PORT_BINDING = `{{ALLOCATE_PORT}}:${CONTAINER_PORT}`;

export type YesNo = 'Y' | 'N';
/** WeCube's parameter datatypes (platform-core PluginParamDataType*). */
export type DataType = 'string' | 'int' | 'list' | 'object';
export type MappingType = 'entity' | 'context' | 'constant' | 'system_variable';

export interface RegisterParameter {
  name: string;
  datatype: DataType;
  /** Inputs only. */
  required?: YesNo;
  sensitiveData: YesNo;
  mappingType: MappingType;
  /** With mappingType system_variable: the WeCube system variable that fills the parameter. */
  systemVariable?: string;
  description?: string;
}

export interface RegisterInterface {
  plugin: string;
  action: string;
  path: string;
  description: string;
  inputs: RegisterParameter[];
  outputs: RegisterParameter[];
}

/**
 * Operations WeCube does not register. salt-api/call is the operators' raw salt passthrough (off unless
 * SALT_API_CALL_ENABLED): if it were registered, any workflow designer could pick it.
 */
export const NOT_REGISTERED: Readonly<Record<string, string>> = {
  'salt-api/call': 'operator passthrough to salt-api, not a workflow step',
};

// ---------------------------------------------------------------------------------------------------------
// Attributes: rules, then upstream's exceptions.

type Attributes = Omit<RegisterParameter, 'name' | 'datatype' | 'description'>;

// Inputs WeCube fills from a system variable whatever the interface (upstream's variable names; these
// four are platform-wide variables, not this package's systemParameters).
const SYSTEM_VARIABLE_INPUTS: Readonly<Record<string, Attributes>> = {
  seed: { required: 'Y', sensitiveData: 'Y', mappingType: 'system_variable', systemVariable: 'ENCRYPT_SEED' },
  sysPrivateKey: { required: 'N', sensitiveData: 'Y', mappingType: 'system_variable', systemVariable: 'SYSTEM_PRIVATE_KEY' },
  fileReplacePrefix: { required: 'Y', sensitiveData: 'N', mappingType: 'system_variable', systemVariable: 'FILE_VARIBLE_PREFIX' },
  encryptVariblePrefix: { required: 'Y', sensitiveData: 'N', mappingType: 'system_variable', systemVariable: 'ENCRYPT_VARIBLE_PREFIX' },
};

// host-script's endpointType comes from the package's SALTSTACK_SCRIPT_* parameter of the action (upstream's).
const SCRIPT_ENDPOINT_TYPE: Readonly<Record<string, string>> = {
  run: 'SALTSTACK_SCRIPT_LOCAL',
  'run-local': 'SALTSTACK_SCRIPT_LOCAL',
  'ssh-run': 'SALTSTACK_SCRIPT_LOCAL',
  'run-s3': 'SALTSTACK_SCRIPT_S3',
  'run-user-param': 'SALTSTACK_SCRIPT_USER_PARAM',
};

// Inputs the workflow designer types once (upstream's `constant` mapping), not read from an entity.
const CONSTANT_INPUTS = new Set(['passwordType', 'rwDir', 'rwFile', 'logFileTrade', 'logFileTrace', 'logFileMetric', 'logFileKeyword']);

/** Secrets by name: WeCube masks them, and decrypts batch-execution values of sensitive inputs. */
const SENSITIVE = /(password|seed|privatekey|publickey)$/i;

// Outputs WeCube keeps in the workflow context rather than writing back to an entity.
const CONTEXT_OUTPUTS = new Set(['errorCode', 'errorMessage', 'detail']);

// WeCube's own fields: the platform sends and reads them whatever the parameter list says.
const PLATFORM_INPUTS = new Set(['callbackParameter']);

/**
 * Inputs upstream declares that no schema does: WeCube sends them, the schema drops unknown keys, and the
 * value is taken from this plugin's configuration instead (SALTSTACK_ENCRYPT_VARIBLE_PREFIX).
 */
const UPSTREAM_ONLY_INPUTS: Readonly<Record<string, readonly string[]>> = {
  'apply-deployment/update': ['encryptVariblePrefix'],
};

const Y = { required: 'Y' } as const;
const N = { required: 'N' } as const;
const constant = { mappingType: 'constant' } as const;
const context = { mappingType: 'context' } as const;

/**
 * Upstream's attributes where the rules above give another value: `plugin/action` -> `in:`/`out:` parameter
 * -> attributes. Mostly `required="Y"` on fields this plugin can do without (a script given inline instead of
 * an endpoint, a guid): WeCube keeps checking them as it did for upstream, so workflows behave the same.
 */
const OVERRIDES: Readonly<Record<string, Readonly<Record<string, Partial<Attributes>>>>> = {
  'agent/install': {
    'in:user': Y,
    'in:method': { required: 'Y', sensitiveData: 'Y', mappingType: 'system_variable', systemVariable: 'SALTSTACK_AGENT_INSTALL_LOCAL' },
  },
  'agent/uninstall': { 'in:user': Y },
  'package-variable/replace': { 'in:confFiles': Y, 'in:variableList': Y, 'in:appPublicKey': Y },
  'host-script/run': { 'in:endpoint': Y },
  'host-script/run-local': { 'in:endpoint': Y },
  'host-script/run-s3': { 'in:endpoint': Y },
  'host-script/run-user-param': { 'in:scriptContent': Y },
  'host-script/ssh-run': { 'in:endpoint': Y, 'in:password': { required: 'Y', sensitiveData: 'N' } },
  'host-user/add': {
    'in:userName': constant,
    'in:password': constant,
    'in:userGroup': constant,
    'in:userId': constant,
    'in:groupId': constant,
    'in:homeDir': constant,
    'out:password': context,
  },
  'host-user/delete': { 'in:userName': constant },
  'host-user/password': { 'in:userName': constant, 'in:password': constant, 'out:password': context },
  'mysql-script/run': { 'in:endpoint': Y },
  'mysql-script/run-custom-sql': { 'in:sql': Y },
  'mysql-user/add': { 'in:databaseName': Y },
  'mysql-user/change-password': { 'in:databaseUserPassword': N },
  'apply-deployment/new': { 'in:destinationPath': Y, 'in:confFiles': Y, 'in:variableList': Y, 'in:startScript': Y, 'in:appPublicKey': Y },
  'apply-deployment/update': {
    'in:destinationPath': Y,
    'in:confFiles': Y,
    'in:variableList': Y,
    'in:stopScript': Y,
    'in:startScript': Y,
    'in:appPublicKey': Y,
  },
  'apply-deployment/delete': { 'in:destinationPath': Y, 'in:stopScript': Y },
  'password/encode': { 'out:password': { ...context, sensitiveData: 'N' } },
  'password/decode': { 'out:password': { ...context, sensitiveData: 'N' } },
  'password/sshkeygen': { 'out:keyName': context, 'out:privateKey': context, 'out:publicKey': { ...context, sensitiveData: 'N' } },
  'redis-user/add': { 'in:port': Y, 'in:userPassword': Y },
  'redis-user/delete': { 'in:port': Y },
};

/** The datatype of a JSON Schema property: its first non-null type (looseString's list starts with string). */
function datatypeOf(property: Record<string, unknown>): DataType {
  const types: string[] = [];
  const collect = (p: Record<string, unknown>) => {
    if (Array.isArray(p['type'])) types.push(...(p['type'] as string[]));
    else if (typeof p['type'] === 'string') types.push(p['type']);
    for (const branch of (p['anyOf'] ?? p['oneOf'] ?? []) as Record<string, unknown>[]) collect(branch);
  };
  collect(property);
  switch (types.find((t) => t !== 'null')) {
    case 'number':
    case 'integer':
      return 'int';
    case 'array':
      return 'list';
    case 'object':
      return 'object';
    default:
      // string, boolean (WeCube has no boolean type: `true`/`false` travel as text), or unconstrained
      return 'string';
  }
}

interface ItemSchema {
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
}

const describe = (property: Record<string, unknown> | undefined) =>
  typeof property?.['description'] === 'string' ? { description: property['description'] as string } : {};

function inputRule(op: Operation, name: string, required: boolean): Attributes {
  if (name in SYSTEM_VARIABLE_INPUTS) return SYSTEM_VARIABLE_INPUTS[name]!;
  if (name === 'endpointType' && op.plugin === 'host-script' && SCRIPT_ENDPOINT_TYPE[op.action]) {
    return { required: 'Y', sensitiveData: 'N', mappingType: 'system_variable', systemVariable: SCRIPT_ENDPOINT_TYPE[op.action] };
  }
  return {
    // WeCube always sends an item's guid (upstream marks it required everywhere).
    required: name === 'guid' || (required && !CONSTANT_INPUTS.has(name)) ? 'Y' : 'N',
    sensitiveData: SENSITIVE.test(name) ? 'Y' : 'N',
    mappingType: CONSTANT_INPUTS.has(name) ? 'constant' : 'entity',
  };
}

function inputParameters(op: Operation, overrides: Readonly<Record<string, Partial<Attributes>>>): RegisterParameter[] {
  const schema = jsonSchema(op.input, 'input') as ItemSchema;
  const required = new Set(schema.required ?? []);
  const properties: Array<[string, Record<string, unknown>]> = [
    ...Object.entries(schema.properties ?? {}),
    ...(UPSTREAM_ONLY_INPUTS[`${op.plugin}/${op.action}`] ?? []).map((name): [string, Record<string, unknown>] => [
      name,
      { type: 'string', description: "accepted and ignored: the plugin's configuration gives it" },
    ]),
  ];
  return properties
    .filter(([name]) => !PLATFORM_INPUTS.has(name))
    .map(([name, property]) => ({
      name,
      datatype: datatypeOf(property),
      ...inputRule(op, name, required.has(name)),
      ...overrides[`in:${name}`],
      ...describe(property),
    }));
}

function outputParameters(op: Operation, overrides: Readonly<Record<string, Partial<Attributes>>>): RegisterParameter[] {
  const schema = jsonSchema(op.output, 'output') as ItemSchema;
  // Every item's reply carries its guid, errorCode and errorMessage besides the operation's own outputs.
  const properties: Array<[string, Record<string, unknown>]> = [
    ['guid', { type: 'string' }],
    ...Object.entries(schema.properties ?? {}).filter(([name]) => name !== 'guid'),
    ['errorCode', { type: 'string', description: '"0" success, "1" failure' }],
    ['errorMessage', { type: 'string' }],
  ];
  return properties.map(([name, property]) => ({
    name,
    datatype: datatypeOf(property),
    sensitiveData: SENSITIVE.test(name) ? 'Y' : 'N',
    mappingType: CONTEXT_OUTPUTS.has(name) ? 'context' : 'entity',
    ...overrides[`out:${name}`],
    ...describe(property),
  }));
}

/**
 * The interfaces register.xml declares: every registry operation but NOT_REGISTERED, in registry order, from
 * `operations` (the functions' operation objects). Throws when an operation of the registry is missing.
 */
export function registerInterfaces(operations: readonly Operation[]): RegisterInterface[] {
  return OPERATIONS.filter((entry) => !(`${entry.plugin}/${entry.action}` in NOT_REGISTERED)).map((entry) => {
    const op = operations.find((o) => o.plugin === entry.plugin && o.action === entry.action);
    if (!op) throw new Error(`register.xml: no operation object for ${entry.plugin}/${entry.action} (registry entry without its function?)`);
    const overrides = OVERRIDES[`${entry.plugin}/${entry.action}`] ?? {};
    return {
      plugin: entry.plugin,
      action: entry.action,
      path: currentPath(entry),
      description: op.summary,
      inputs: inputParameters(op, overrides),
      outputs: outputParameters(op, overrides),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Package-level declarations.

export interface SystemParameter {
  name: string;
  defaultValue: string;
  /** For the README table and the operator: what the plugin does with it. */
  meaning: string;
}

/**
 * The package's system parameters: upstream's nineteen (names and defaults kept, so that a WeCube moving
 * from the upstream plugin keeps its settings), then this plugin's own: the salt-api it talks to, since
 * the container runs no salt-master of its own.
 */
export const SYSTEM_PARAMETERS: readonly SystemParameter[] = [
  { name: 'SALTSTACK_SCRIPT_LOCAL', defaultValue: 'LOCAL', meaning: 'endpointType WeCube sends to host-script/run, run-local and ssh-run' },
  { name: 'SALTSTACK_SCRIPT_S3', defaultValue: 'S3', meaning: 'endpointType WeCube sends to host-script/run-s3' },
  { name: 'SALTSTACK_SCRIPT_USER_PARAM', defaultValue: 'USER_PARAM', meaning: 'endpointType WeCube sends to host-script/run-user-param' },
  {
    name: 'SALTSTACK_ENCRYPT_VARIBLE_PREFIX',
    defaultValue: DEFAULT_PREFIXES.doubleRsa.join(','),
    meaning: 'placeholder prefixes of double-encrypted (RSA, then the app key) values',
  },
  {
    name: 'SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX',
    defaultValue: DEFAULT_PREFIXES.singleRsa.join(','),
    meaning: 'placeholder prefixes of values encrypted with the app public key',
  },
  {
    name: 'SALTSTACK_ENCRYPT_ESCAPE_PREFIX',
    defaultValue: '',
    meaning: 'keys whose single-encrypt values stay plain; empty matches every key (upstream: `+` values are written plain)',
  },
  { name: 'SALTSTACK_FILE_VARIBLE_PREFIX', defaultValue: DEFAULT_PREFIXES.file.join(','), meaning: 'placeholder prefixes replaced by a whole file' },
  { name: 'SALTSTACK_SYSTEM_PRIVATE_KEY', defaultValue: '', meaning: "upstream's; not read (sysPrivateKey comes from WeCube's SYSTEM_PRIVATE_KEY)" },
  { name: 'SALTSTACK_AGENT_USER', defaultValue: 'root', meaning: "upstream's; not read (agent/install takes the user of each item, root when absent)" },
  { name: 'SALTSTACK_AGENT_PORT', defaultValue: '22', meaning: 'passed as minion_port, as upstream' },
  { name: 'SALTSTACK_DEFAULT_SPECIAL_REPLACE', defaultValue: DEFAULT_PREFIXES.plain.join(','), meaning: 'placeholder prefixes of plain values' },
  { name: 'SALTSTACK_AGENT_INSTALL_YUM', defaultValue: 'yum', meaning: "upstream's; method name of a repository install" },
  {
    name: 'SALTSTACK_AGENT_INSTALL_LOCAL',
    defaultValue: 'local',
    meaning: 'method WeCube sends to agent/install: local = the offline bundle (AGENT_BUNDLE_URL)',
  },
  { name: 'SALTSTACK_LOG_LEVEL', defaultValue: 'info', meaning: 'log level (debug, info, warn, error), LOG_LEVEL' },
  { name: 'SALTSTACK_RESET_ENV', defaultValue: 'Y', meaning: "upstream's; not read" },
  { name: 'SALTSTACK_API_CONCURRENT_NUM', defaultValue: '5', meaning: 'items of one request worked on at a time (API_CONCURRENT_NUM)' },
  { name: 'SALTSTACK_VARIABLE_NULL_CHECK', defaultValue: 'N', meaning: 'Y: a placeholder left unresolved fails package-variable/replace' },
  { name: 'SALTSTACK_AUTH_TYPE_KEY', defaultValue: 'key', meaning: "upstream's; not read" },
  { name: 'SALTSTACK_AUTH_KEY_NAME', defaultValue: '', meaning: "upstream's; not read" },
  // This plugin's own: the container holds no salt-master, so it is told where salt-api is.
  { name: 'SALTSTACK_SALT_API_URL', defaultValue: '', meaning: 'salt-api (rest_cherrypy) base URL, e.g. https://salt-master:8080 (SALT_API_URL); required' },
  { name: 'SALTSTACK_SALT_API_USER', defaultValue: 'saltapi', meaning: 'salt-api user (SALT_API_USER)' },
  { name: 'SALTSTACK_SALT_API_PASSWORD', defaultValue: '', meaning: 'salt-api password, plain or rsa@ encrypted (SALT_API_PASSWORD); required' },
  { name: 'SALTSTACK_SALT_API_EAUTH', defaultValue: 'pam', meaning: 'salt-api eauth backend: pam, file, sharedsecret, ldap, auto (SALT_API_EAUTH)' },
  {
    name: 'SALTSTACK_SALT_API_CA_FILE',
    defaultValue: '',
    meaning: "CA of salt-api's certificate, a path in the container, e.g. /data/certs/salt-api-ca.pem (SALT_API_CA_FILE); empty: the system CAs",
  },
  {
    name: 'SALTSTACK_MINION_MASTERS',
    defaultValue: '',
    meaning: "salt-master address(es) agent/install gives minions (AGENT_MINION_MASTERS); empty: the plugin's host, as upstream",
  },
];

const placeholder = (name: string) => `{{${name}}}`;

/**
 * The container's environment: upstream's variables (names and sources kept, WeCube's values read through
 * lib/wecube-environment.ts), then this plugin's own. WeCube splits the list on `,` before it substitutes
 * the `{{...}}` values, so a value may contain commas but a literal here may not.
 */
export const ENV_VARIABLES: ReadonlyArray<readonly [name: string, value: string]> = [
  ['minion_master_ip', placeholder('ALLOCATE_HOST')],
  ['minion_port', placeholder('SALTSTACK_AGENT_PORT')],
  ['DEFAULT_S3_KEY', placeholder('S3_ACCESS_KEY')],
  ['DEFAULT_S3_PASSWORD', placeholder('S3_SECRET_KEY')],
  ['SALTSTACK_DEFAULT_SPECIAL_REPLACE', placeholder('SALTSTACK_DEFAULT_SPECIAL_REPLACE')],
  ['CORE_ADDR', placeholder('CORE_ADDR')],
  ['GATEWAY_URL', placeholder('GATEWAY_URL')],
  ['SALTSTACK_ENCRYPT_VARIBLE_PREFIX', placeholder('SALTSTACK_ENCRYPT_VARIBLE_PREFIX')],
  ['SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX', placeholder('SALTSTACK_SINGLE_ENCRYPT_VARIBLE_PREFIX')],
  ['SALTSTACK_ENCRYPT_ESCAPE_PREFIX', placeholder('SALTSTACK_ENCRYPT_ESCAPE_PREFIX')],
  ['SALTSTACK_FILE_VARIBLE_PREFIX', placeholder('SALTSTACK_FILE_VARIBLE_PREFIX')],
  ['SALTSTACK_LOG_LEVEL', placeholder('SALTSTACK_LOG_LEVEL')],
  ['JWT_SIGNING_KEY', placeholder('JWT_SIGNING_KEY')],
  ['S3_SERVER_URL', placeholder('S3_SERVER_URL')],
  ['SUB_SYSTEM_CODE', placeholder('SUB_SYSTEM_CODE')],
  ['SUB_SYSTEM_KEY', placeholder('SUB_SYSTEM_KEY')],
  ['SALTSTACK_RESET_ENV', placeholder('SALTSTACK_RESET_ENV')],
  ['API_CONCURRENT_NUM', placeholder('SALTSTACK_API_CONCURRENT_NUM')],
  ['SALTSTACK_VARIABLE_NULL_CHECK', placeholder('SALTSTACK_VARIABLE_NULL_CHECK')],
  ['ENCRYPT_SEED', placeholder('ENCRYPT_SEED')],
  ['SALT_API_URL', placeholder('SALTSTACK_SALT_API_URL')],
  ['SALT_API_USER', placeholder('SALTSTACK_SALT_API_USER')],
  ['SALT_API_PASSWORD', placeholder('SALTSTACK_SALT_API_PASSWORD')],
  ['SALT_API_EAUTH', placeholder('SALTSTACK_SALT_API_EAUTH')],
  ['SALT_API_CA_FILE', placeholder('SALTSTACK_SALT_API_CA_FILE')],
  ['AGENT_MINION_MASTERS', placeholder('SALTSTACK_MINION_MASTERS')],
  // A plugin host has no Step Functions and WeCube's MinIO no KMS: releases run in-process, records unencrypted at rest.
  ['RELEASE_RUNNER', 'local'],
  ['RELEASE_REQUEST_SSE', 'off'],
];

/**
 * Host paths mounted into the container: the clock, and WeCube's certificates (/data/certs/rsa_key decrypts
 * `rsa@` values; a salt-api CA can be put there). Upstream's salt-master PKI, data and log directories have
 * no use here: no master runs in the container, nothing is kept on its disk, logs go to stdout.
 */
export const VOLUME_BINDINGS: readonly string[] = ['/etc/localtime:/etc/localtime', '{{BASE_MOUNT_PATH}}/certs:/data/certs'];

/** The bucket WeCube creates for the plugin (upstream's; S3_SERVER_URL without a bucket means it). */
export const S3_BUCKET = 'salt-tmp';

/** Upstream's: the platform and CMDB versions the plugin was registered against. */
export const PACKAGE_DEPENDENCIES: ReadonlyArray<readonly [name: string, version: string]> = [
  ['wecmdb', 'v1.5.0'],
  ['platform', 'v2.9.0'],
];

// ---------------------------------------------------------------------------------------------------------
// Serialisation.

const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

const attrs = (pairs: ReadonlyArray<readonly [string, string | undefined]>) =>
  pairs
    .filter((p): p is readonly [string, string] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');

function parameterXml(p: RegisterParameter, io: 'input' | 'output'): string {
  const mapping: Array<[string, string | undefined]> =
    p.mappingType === 'system_variable'
      ? [['mappingSystemVariableName', p.systemVariable]]
      : p.mappingType === 'entity'
        ? [['mappingEntityExpression', '']]
        : [];
  return `<parameter${attrs([
    ['datatype', p.datatype],
    ['required', io === 'input' ? p.required : undefined],
    ['sensitiveData', p.sensitiveData],
    ['mappingType', p.mappingType],
    ...mapping,
    ['description', p.description],
  ])}>${escapeXml(p.name)}</parameter>`;
}

export interface RegisterXmlOptions {
  /** The functions' operation objects (scripts/lib/load-operations.ts). */
  operations: readonly Operation[];
  /** The package version WeCube shows (and names the S3 folder of the zip after). */
  version: string;
  /** `name:tag` of the image in image.tar. */
  image: string;
  containerName: string;
  /** Default `{{ALLOCATE_PORT}}:8082`. */
  portBinding?: string;
}

/** register.xml for the given operations and image. Throws when the registry and the operations disagree. */
export function registerXml(opts: RegisterXmlOptions): string {
  for (const [what, value] of [
    ['version', opts.version],
    ['image', opts.image],
    ['containerName', opts.containerName],
  ] as const) {
    // WeCube splits these on nothing but uses them in `docker run` arguments: keep them to docker's alphabet.
    if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(value)) throw new Error(`register.xml: ${what} "${value}" is not a docker-style name`);
  }
  const interfaces = registerInterfaces(opts.operations);
  const plugins = [...new Set(interfaces.map((i) => i.plugin))];
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by `npm run wecube-package` (scripts/lib/register-xml.ts); do not edit. -->',
    `<package${attrs([
      ['name', PACKAGE_NAME],
      ['version', opts.version],
    ])}>`,
    '    <packageDependencies>',
    ...PACKAGE_DEPENDENCIES.map(
      ([name, version]) =>
        `        <packageDependency${attrs([
          ['name', name],
          ['version', version],
        ])}/>`,
    ),
    '    </packageDependencies>',
    '    <menus>',
    '    </menus>',
    '    <dataModel>',
    '    </dataModel>',
    '    <systemParameters>',
    ...SYSTEM_PARAMETERS.map(
      (p) =>
        `        <systemParameter${attrs([
          ['name', p.name],
          ['scopeType', 'global'],
          ['defaultValue', p.defaultValue],
        ])}/>`,
    ),
    '    </systemParameters>',
    '    <authorities>',
    '    </authorities>',
    '    <resourceDependencies>',
    `        <docker${attrs([
      ['imageName', opts.image],
      ['containerName', opts.containerName],
      ['portBindings', opts.portBinding ?? DEFAULT_PORT_BINDING],
      ['volumeBindings', VOLUME_BINDINGS.join(',')],
      ['envVariables', ENV_VARIABLES.map(([name, value]) => `${name}=${value}`).join(',')],
    ])}/>`,
    `        <s3${attrs([['bucketName', S3_BUCKET]])}/>`,
    '    </resourceDependencies>',
    '    <plugins>',
  ];
  for (const plugin of plugins) {
    lines.push(
      `        <plugin${attrs([
        ['name', plugin],
        ['targetPackage', ''],
        ['targetEntity', ''],
        ['registerName', ''],
        ['targetEntityFilterRule', ''],
      ])}>`,
    );
    for (const i of interfaces.filter((x) => x.plugin === plugin)) {
      lines.push(
        `            <interface${attrs([
          ['action', i.action],
          ['path', i.path],
          ['filterRule', ''],
          ['description', i.description],
        ])}>`,
        '                <inputParameters>',
        ...i.inputs.map((p) => `                    ${parameterXml(p, 'input')}`),
        '                </inputParameters>',
        '                <outputParameters>',
        ...i.outputs.map((p) => `                    ${parameterXml(p, 'output')}`),
        '                </outputParameters>',
        '            </interface>',
      );
    }
    lines.push('        </plugin>');
  }
  lines.push('    </plugins>', '</package>', '');
  return lines.join('\n');
}
