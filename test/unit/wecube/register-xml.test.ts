import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { loadConfig } from '../../../lib/config.js';
import { OPERATIONS } from '../../../lib/registry.js';
import { createRuntime } from '../../../lib/runtime.js';
import { operationsFor } from '../../../scripts/lib/load-operations.js';
import { NOT_REGISTERED, registerXml, SYSTEM_PARAMETERS } from '../../../scripts/lib/register-xml.js';

// register.xml against upstream's template (test/fixtures/upstream/register.xml.tpl): WeCube maps inputs and
// outputs by these parameter lists, so an upstream interface or parameter that went missing, or changed its
// type or mapping, breaks workflows registered against the upstream plugin.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TEMPLATE = readFileSync(join(root, 'test', 'fixtures', 'upstream', 'register.xml.tpl'), 'utf8');

const ops = await operationsFor(createRuntime(loadConfig({ AUTH_MODE: 'off' })));
const XML = registerXml({
  operations: ops,
  version: 'v9.8.7',
  image: 'saltstack-plugin-serverless:v9.8.7',
  containerName: 'saltstack-plugin-serverless-v9.8.7',
});

interface Parameter {
  name: string;
  datatype: string;
  required?: string;
  sensitiveData: string;
  mappingType: string;
  mappingSystemVariableName?: string;
  mappingEntityExpression?: string;
  description?: string;
}
interface Interface {
  plugin: string;
  action: string;
  path: string;
  inputs: Parameter[];
  outputs: Parameter[];
}
interface Document {
  name: string;
  version: string;
  dependencies: Array<{ name: string; version: string }>;
  systemParameters: Map<string, string>;
  docker: Record<string, string>;
  bucket: string;
  interfaces: Map<string, Interface>;
}

const LISTS = new Set(['packageDependency', 'systemParameter', 'plugin', 'interface', 'parameter']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: 'name',
  parseAttributeValue: false,
  isArray: (n) => LISTS.has(n),
});

function read(xml: string): Document {
  const pkg = parser.parse(xml).package;
  const interfaces = new Map<string, Interface>();
  for (const plugin of pkg.plugins.plugin ?? []) {
    for (const i of plugin.interface ?? []) {
      interfaces.set(`${plugin.name}/${i.action}`, {
        plugin: plugin.name,
        action: i.action,
        path: i.path,
        inputs: i.inputParameters?.parameter ?? [],
        outputs: i.outputParameters?.parameter ?? [],
      });
    }
  }
  return {
    name: pkg.name,
    version: pkg.version,
    dependencies: pkg.packageDependencies.packageDependency,
    systemParameters: new Map(pkg.systemParameters.systemParameter.map((p: { name: string; defaultValue: string }) => [p.name, p.defaultValue])),
    docker: pkg.resourceDependencies.docker,
    bucket: pkg.resourceDependencies.s3.bucketName,
    interfaces,
  };
}

const upstream = read(TEMPLATE);
const ours = read(XML);

/** Interfaces upstream does not have, with every parameter they declare. */
const ADDED_INTERFACES: Record<string, { in: string[]; out: string[] }> = {
  'released-package/listCurrentDir': { in: ['guid', 'endpoint', 'currentDir'], out: ['guid', 'files', 'errorCode', 'errorMessage'] },
  'released-package/getConfigFileKey': { in: ['guid', 'endpoint', 'filePath'], out: ['guid', 'filePath', 'configKeyInfos', 'errorCode', 'errorMessage'] },
  'disk/getUnformatedDisk': { in: ['guid', 'target', 'endpoint'], out: ['guid', 'unformatedDisks', 'errorCode', 'errorMessage'] },
  'disk/formatAndMountDisk': {
    in: ['guid', 'target', 'endpoint', 'diskName', 'fileSystemType', 'mountDir'],
    out: ['guid', 'detail', 'errorCode', 'errorMessage'],
  },
  'release/start': {
    in: [
      'guid',
      'name',
      'mode',
      'endpoint',
      'packageKey',
      'confFiles',
      'variableList',
      'seed',
      'appPublicKey',
      'sysPrivateKey',
      'destinationPath',
      'userName',
      'password',
      'rwDir',
      'rwFile',
      'startScript',
      'stopScript',
      'healthScript',
      'args',
      'clearPath',
      'targets',
      'strategy',
    ],
    out: ['guid', 'releaseId', 'executionArn', 'plan', 'targets', 'targetsFrom', 'errorCode', 'errorMessage'],
  },
  'release/status': {
    in: ['guid', 'releaseId'],
    out: ['guid', 'releaseId', 'status', 'result', 'stopRequestedAt', 'summary', 'targetsFrom', 'eventsFailed', 'hosts', 'errorCode', 'errorMessage'],
  },
  'release/list': { in: ['guid', 'limit', 'nextToken'], out: ['guid', 'releases', 'nextToken', 'errorCode', 'errorMessage'] },
  'release/stop': { in: ['guid', 'releaseId'], out: ['guid', 'releaseId', 'status', 'result', 'stopRequestedAt', 'errorCode', 'errorMessage'] },
};

/** Parameters added to upstream's interfaces (this plugin's extensions; the guid every reply carries). */
const ADDED_PARAMETERS: Record<string, { in?: string[]; out?: string[] }> = {
  'agent/install': {
    in: ['hostKeyFingerprint', 'reinstall'],
    out: ['host', 'detail', 'hostKeyFingerprint', 'hostKeyStatus', 'minionId', 'method', 'keyFingerprint', 'keyStatus'],
  },
  'agent/uninstall': { in: ['method', 'hostKeyFingerprint'], out: ['host', 'detail', 'hostKeyFingerprint', 'hostKeyStatus', 'keyDeleted'] },
  'package-variable/replace': { in: ['variableNullCheck'], out: ['unresolvedVariables'] },
  'host-script/run': { in: ['scriptContent', 'timeout'], out: ['target', 'retCode'] },
  'host-script/ssh-run': {
    in: ['scriptContent', 'timeout', 'port', 'privateKey', 'hostKeyFingerprint'],
    out: ['target', 'retCode', 'hostKeyFingerprint', 'hostKeyStatus'],
  },
  'host-script/run-local': { in: ['scriptContent', 'timeout'], out: ['target', 'retCode'] },
  'host-script/run-s3': { in: ['scriptContent', 'timeout'], out: ['target', 'retCode'] },
  'host-script/run-user-param': { in: ['endpoint', 'timeout'], out: ['target', 'retCode'] },
  'host-file/copy': { out: ['detail'] },
  'host-file/create': { in: ['fileMode'], out: ['detail'] },
  'host-file/delete': { out: ['detail'] },
  'host-info/query': { in: ['fresh'], out: ['diskMounts', 'hwaddrInterfaces'] },
  'host-user/add': { out: ['detail'] },
  'host-user/delete': { out: ['detail'] },
  'host-user/password': { out: ['detail'] },
  'mysql-script/run': { in: ['sql', 'transaction'] },
  'mysql-script/run-custom-sql': { in: ['endpoint', 'sql_files', 'transaction'], out: ['columns', 'rows', 'truncated'] },
  'mysql-database/add': { out: ['guid'] },
  'mysql-database/delete': { out: ['guid', 'detail'] },
  'mysql-user/add': { out: ['guid'] },
  'mysql-user/delete': { out: ['guid', 'detail'] },
  'mysql-user/change-password': { out: ['guid'] },
  'apply-deployment/new': { out: ['target', 'retCode', 'rollback', 'userDetail', 'runScriptDetail'] },
  'apply-deployment/update': { out: ['target', 'retCode', 'rollback', 'runStopScriptDetail', 'runStartScriptDetail'] },
  'redis-user/add': { out: ['guid', 'detail'] },
  'redis-user/delete': { out: ['guid', 'detail'] },
};

/** System parameters upstream does not have: where the salt-api and salt-master are (none runs in the container). */
const ADDED_SYSTEM_PARAMETERS = [
  'SALTSTACK_SALT_API_URL',
  'SALTSTACK_SALT_API_USER',
  'SALTSTACK_SALT_API_PASSWORD',
  'SALTSTACK_SALT_API_EAUTH',
  'SALTSTACK_SALT_API_CA_FILE',
  'SALTSTACK_MINION_MASTERS',
];

/** Container variables upstream does not pass. */
const ADDED_ENV = [
  'SALT_API_URL',
  'SALT_API_USER',
  'SALT_API_PASSWORD',
  'SALT_API_EAUTH',
  'SALT_API_CA_FILE',
  'AGENT_MINION_MASTERS',
  'RELEASE_RUNNER',
  'RELEASE_REQUEST_SSE',
];

/** What WeCube substitutes itself in docker declarations (platform-core's launch: envMap and system variables). */
const PLATFORM_VALUES = [
  'ALLOCATE_HOST',
  'ALLOCATE_PORT',
  'BASE_MOUNT_PATH',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'S3_SERVER_URL',
  'CORE_ADDR',
  'GATEWAY_URL',
  'JWT_SIGNING_KEY',
  'SUB_SYSTEM_CODE',
  'SUB_SYSTEM_KEY',
  'ENCRYPT_SEED',
];

const names = (params: Parameter[]) => params.map((p) => p.name);
const envOf = (docker: Record<string, string>) =>
  new Map(docker['envVariables']!.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
// The attributes WeCube acts on: a changed one changes what the platform sends (system_variable values,
// decryption of sensitive inputs, required checks) or where it writes an output.
const ATTRIBUTES = ['datatype', 'required', 'sensitiveData', 'mappingType', 'mappingSystemVariableName'] as const;
const WECUBE_DATATYPES = ['string', 'int', 'list', 'object'];

describe('the generated register.xml', () => {
  it('is well-formed XML', () => {
    expect(XMLValidator.validate(XML)).toBe(true);
  });

  it('is the saltstack package (the gateway routes /saltstack/... by this name) at the given version, with upstream dependencies', () => {
    expect(ours.name).toBe('saltstack');
    expect(upstream.name).toBe('saltstack');
    expect(ours.version).toBe('v9.8.7');
    expect(ours.dependencies).toEqual(upstream.dependencies);
  });

  it('has upstream’s 31 interfaces, and exactly the listed additions', () => {
    expect(upstream.interfaces.size).toBe(31);
    const missing = [...upstream.interfaces.keys()].filter((k) => !ours.interfaces.has(k));
    const added = [...ours.interfaces.keys()].filter((k) => !upstream.interfaces.has(k));
    expect(missing).toEqual([]);
    expect(added.sort()).toEqual(Object.keys(ADDED_INTERFACES).sort());
  });

  it('registers every registry operation but the listed exceptions', () => {
    const expected = OPERATIONS.map((o) => `${o.plugin}/${o.action}`).filter((k) => !(k in NOT_REGISTERED));
    expect([...ours.interfaces.keys()].sort()).toEqual(expected.sort());
    expect(Object.keys(NOT_REGISTERED)).toEqual(['salt-api/call']);
  });

  it.each([...upstream.interfaces.keys()])('%s: same plugin, action and path as upstream', (key) => {
    const u = upstream.interfaces.get(key)!;
    const o = ours.interfaces.get(key)!;
    expect({ plugin: o.plugin, action: o.action, path: o.path }).toEqual({ plugin: u.plugin, action: u.action, path: u.path });
  });

  it.each([...upstream.interfaces.keys()])('%s: upstream’s inputs and outputs with their attributes, plus exactly the listed additions', (key) => {
    const u = upstream.interfaces.get(key)!;
    const o = ours.interfaces.get(key)!;
    for (const io of ['inputs', 'outputs'] as const) {
      const added = ADDED_PARAMETERS[key]?.[io === 'inputs' ? 'in' : 'out'] ?? [];
      expect({ io, missing: names(u[io]).filter((n) => !names(o[io]).includes(n)) }).toEqual({ io, missing: [] });
      expect({ io, added: names(o[io]).filter((n) => !names(u[io]).includes(n)) }).toEqual({ io, added });
      for (const p of u[io]) {
        const q = o[io].find((x) => x.name === p.name)!;
        const pick = (x: Parameter) => Object.fromEntries(ATTRIBUTES.map((a) => [a, x[a] ?? '']));
        expect({ io, name: p.name, ...pick(q) }).toEqual({ io, name: p.name, ...pick(p) });
      }
    }
  });

  it.each(Object.keys(ADDED_INTERFACES))('%s (new): exactly the listed parameters', (key) => {
    const o = ours.interfaces.get(key)!;
    expect(o.path).toBe(`/saltstack/v1/${key}`);
    expect({ in: names(o.inputs), out: names(o.outputs) }).toEqual(ADDED_INTERFACES[key]);
  });

  it('gives every parameter a WeCube datatype, and system_variable mappings a variable', () => {
    for (const i of ours.interfaces.values()) {
      for (const p of [...i.inputs, ...i.outputs]) {
        expect({ at: `${i.path} ${p.name}`, datatype: WECUBE_DATATYPES.includes(p.datatype) }).toEqual({ at: `${i.path} ${p.name}`, datatype: true });
        if (p.mappingType === 'system_variable') expect(p.mappingSystemVariableName).toMatch(/^[A-Z0-9_]+$/);
      }
    }
  });

  it('types numbers as int and lists as list (host-info sends numbers, as upstream declares)', () => {
    const out = ours.interfaces.get('host-info/query')!.outputs;
    expect(out.find((p) => p.name === 'numCpus')!.datatype).toBe('int');
    expect(out.find((p) => p.name === 'diskMounts')!.datatype).toBe('list');
  });

  it('carries the schemas’ descriptions', () => {
    const create = ours.interfaces.get('host-file/create')!.inputs.find((p) => p.name === 'fileMode')!;
    expect(create.description).toMatch(/octal/);
  });

  it('declares upstream’s SALTSTACK_* package variables where it maps a parameter to one', () => {
    for (const i of ours.interfaces.values()) {
      for (const p of i.inputs) {
        if (p.mappingSystemVariableName?.startsWith('SALTSTACK_')) expect(ours.systemParameters.has(p.mappingSystemVariableName)).toBe(true);
      }
    }
  });
});

describe('system parameters', () => {
  it('has every upstream parameter with upstream’s default', () => {
    expect(upstream.systemParameters.size).toBe(19);
    for (const [name, value] of upstream.systemParameters) expect({ name, value: ours.systemParameters.get(name) }).toEqual({ name, value });
  });

  it('adds exactly the listed ones', () => {
    expect([...ours.systemParameters.keys()].filter((n) => !upstream.systemParameters.has(n))).toEqual(ADDED_SYSTEM_PARAMETERS);
  });

  it('explains each one (for the README table)', () => {
    for (const p of SYSTEM_PARAMETERS) expect(p.meaning.length).toBeGreaterThan(5);
  });
});

describe('the docker and S3 resources', () => {
  it('binds WeCube’s allocated port to 8082 only (no salt-master ports: none runs in the container)', () => {
    expect(ours.docker['portBindings']).toBe('{{ALLOCATE_PORT}}:8082');
    expect(upstream.docker['portBindings']).toContain('{{PORTBINDING}}');
  });

  it('names the image and container it was given', () => {
    expect(ours.docker['imageName']).toBe('saltstack-plugin-serverless:v9.8.7');
    expect(ours.docker['containerName']).toBe('saltstack-plugin-serverless-v9.8.7');
  });

  it('mounts the clock and WeCube’s certificates (rsa_key for rsa@ values) as upstream does', () => {
    const volumes = ours.docker['volumeBindings']!.split(',');
    expect(volumes).toEqual(['/etc/localtime:/etc/localtime', '{{BASE_MOUNT_PATH}}/certs:/data/certs']);
    for (const v of volumes) expect(upstream.docker['volumeBindings']!.split(',')).toContain(v);
  });

  it('passes every upstream variable from the same source, plus exactly the listed ones', () => {
    const up = envOf(upstream.docker);
    const env = envOf(ours.docker);
    for (const [name, value] of up) expect({ name, value: env.get(name) }).toEqual({ name, value });
    expect([...env.keys()].filter((n) => !up.has(n))).toEqual(ADDED_ENV);
  });

  it('fills variables only from platform values and the package’s own parameters', () => {
    const referenced = [...ours.docker['envVariables']!.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!);
    for (const name of referenced) expect({ name, known: PLATFORM_VALUES.includes(name) || ours.systemParameters.has(name) }).toEqual({ name, known: true });
  });

  it('asks for upstream’s S3 bucket', () => {
    expect(ours.bucket).toBe(upstream.bucket);
    expect(ours.bucket).toBe('salt-tmp');
  });

  it('configures the plugin: the container environment, as WeCube fills it, loads with the intended settings', () => {
    const values: Record<string, string> = {
      ALLOCATE_HOST: '10.0.0.5',
      S3_ACCESS_KEY: 'access',
      S3_SECRET_KEY: 'secret-key',
      S3_SERVER_URL: 'http://10.0.0.9:9000',
      CORE_ADDR: 'http://10.0.0.2:19090',
      GATEWAY_URL: 'http://10.0.0.2:19110',
      JWT_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64'),
      SUB_SYSTEM_CODE: 'SALTSTACK',
      SUB_SYSTEM_KEY: 'key',
      ENCRYPT_SEED: 'abc12345',
      ...Object.fromEntries(ours.systemParameters),
      SALTSTACK_SALT_API_URL: 'https://salt-master.example:8080',
      SALTSTACK_SALT_API_PASSWORD: 'salt-secret',
    };
    // WeCube splits on `,` first, then replaces each {{NAME}}.
    const env = Object.fromEntries([...envOf(ours.docker)].map(([k, v]) => [k, v.replace(/\{\{(\w+)\}\}/g, (_, n: string) => values[n] ?? '')]));
    const config = loadConfig(env);
    expect(config.authMode).toBe('jwt');
    expect(config.salt).toMatchObject({ url: 'https://salt-master.example:8080', username: 'saltapi', password: 'salt-secret', eauth: 'pam' });
    // SALTSTACK_MINION_MASTERS left empty: upstream's minion_master_ip, the plugin's host.
    expect(config.agent.masters).toEqual(['10.0.0.5']);
    expect(config.s3).toMatchObject({ endpoint: 'http://10.0.0.9:9000', bucket: 'salt-tmp' });
    expect(config.itemConcurrency).toBe(5);
    expect(config.placeholders).toEqual({ plain: ['@', '#'], doubleRsa: ['!', '%'], singleRsa: ['+'], file: ['^'] });
    expect(config.variableNullCheck).toBe(false);
    expect(config.releases.runner).toBe('local');
    expect(config.releases.requestEncryption).toBeUndefined();
  });
});

describe('registerXml', () => {
  it('refuses an image name that is not docker’s alphabet', () => {
    expect(() => registerXml({ operations: ops, version: 'v1', image: 'x y', containerName: 'c' })).toThrow(/image "x y"/);
  });

  it('refuses operations that miss a registry entry', () => {
    expect(() => registerXml({ operations: ops.filter((o) => o.plugin !== 'host-info'), version: 'v1', image: 'i:v1', containerName: 'c' })).toThrow(
      /host-info\/query/,
    );
  });
});
