import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { decodeJwtKey, SECRET_VARIABLES } from '../../lib/config.js';
import { startFakeSecretsManager } from '../support/fake-secrets-manager.js';
import { projectRoot, stackEnv, stackMinions } from '../support/stack.js';

// What an AWS user deploying the packaged template needs (issue 14): the stack creates its artifact bucket or
// takes one by parameter, runs the salt/database functions in the stage's VPC when it gives one, traces and
// logs, alarms, keeps the S3 trigger's failures, names no partition, ships the salt-api CA, and refuses a
// stage name that would break a function name.

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: unknown; Condition?: string };
interface Template {
  Conditions: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
}

const execFileAsync = promisify(execFile);
const serverless = join(projectRoot, 'node_modules', '.bin', 'serverless');
const CA_IN_PACKAGE = 'certs/salt-api-ca.pem';
// The functions that reach salt-api, a database or a host over SSH (scripts/lib/serverless-functions.ts).
const VPC_FUNCTIONS =
  /^(HostInfoQuery|SaltApiCall|Router|Mysql\w+|Redis\w+|HostScript\w+|HostFile\w+|HostUser\w+|Disk\w+|Agent\w+|ApplyDeployment\w+|ReleaseStart|ReleaseTrigger|ReleasePrepare|ReleaseHostStep|ReleaseSlice|ReleaseAdvance|ReleaseFinish)LambdaFunction$/;

/**
 * The packaged host-info/query handler run as Lambda runs it: from the zip's directory `dir` (its working
 * directory), AUTH_MODE=off, one item against the first stack minion, with the stack's salt-api settings and
 * `env` on top. Returns its reply envelope and its output (tests grep it).
 */
async function invokePackagedHostInfo(dir: string, env: Record<string, string | undefined>) {
  const stack = stackEnv();
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, 'functions', 'host-info-query.mjs')).href)});
    const event = { version: '2.0', routeKey: '$default', rawPath: '/saltstack/v1/host-info/query', rawQueryString: '', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ guid: 'g0', target: ${JSON.stringify(stackMinions()[0])} }] }), isBase64Encoded: false,
      requestContext: { requestId: 'probe', http: { method: 'POST', path: '/saltstack/v1/host-info/query' } } };
    const reply = await handler(event, { awsRequestId: 'probe', getRemainingTimeInMillis: () => 60000 });
    process.stdout.write('\\nREPORT ' + reply.body + '\\n');`;
  const { stdout, stderr } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    timeout: 90_000,
    env: {
      PATH: process.env['PATH'],
      NODE_PATH: join(projectRoot, 'node_modules'),
      STAGE: 'local',
      AUTH_MODE: 'off',
      LOG_LEVEL: 'error',
      SALT_API_URL: stack['SALT_API_URL'],
      SALT_API_EAUTH: stack['SALT_API_EAUTH'],
      SALT_API_USER: stack['SALT_API_USER'],
      ...env,
    },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('REPORT '));
  if (!line) throw new Error(`host-info/query did not reply: ${stderr.slice(-500)}`);
  const reply = JSON.parse(line.slice('REPORT '.length)) as { resultCode: string; resultMessage: string; results: { outputs: Array<Record<string, unknown>> } };
  return { reply, stdout };
}

/** `serverless package --stage <stage> ...args` into `dir`, offline, without AWS credentials. */
function packageStack(stage: string, dir: string, args: string[] = [], extraEnv: Record<string, string> = {}) {
  const env = { ...process.env, ...extraEnv };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  return execFileAsync(serverless, ['package', '--stage', stage, '--package', dir, ...args], { cwd: projectRoot, env, timeout: 240_000 });
}

// An existing secret given by --param secretArn (the full ARN, as describe-secret prints it).
const GIVEN_SECRET = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:acme/salt-plugin-Ab12Cd';
// Secret values in the deployer's shell at package time: none may reach the template.
const PACKAGE_TIME_SECRETS = {
  JWT_SIGNING_KEY: Buffer.alloc(64, 0x5a).toString('base64'),
  ENCRYPT_SEED: 'pkg-seed-Vb8',
  SALT_API_PASSWORD: 'pkg-salt-pw-Tn2',
  S3_SECRET_KEY: 'pkg-s3-secret-Lm5',
};
// Environment names that look secret but hold none, each with the reason.
const NOT_SECRET: Record<string, string> = {
  SECRETS_ID: "the secret's ARN: names it, grants nothing (the role does)",
  SECRETS_TTL_S: 'seconds',
  RELEASE_KMS_KEY_ID: "the release records key's ARN: names it, grants nothing",
  SSH_HOST_KEY_POLICY: 'record-on-first-use | known-only',
};
const SECRET_LOOKING = /KEY|SEED|PASSWORD|SECRET|TOKEN/;

const readTemplate = (dir: string) => JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
/** The role of a function (one per set of needs: test/integration/aws-iam.test.ts checks what each grants). */
const roleOf = (t: Template, fn: string) => t.Resources[t.Resources[fn]!.Properties['Role']['Fn::GetAtt'][0]]!;
/** Every IAM role of the template, as text. */
const rolesText = (t: Template) => JSON.stringify(ofType(t, 'AWS::IAM::Role'));

/** Extracts every entry of a zip under `dir`. */
function extractZip(zip: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zip, { lazyEntries: true, autoClose: true }, (error, file) => {
      if (error || !file) return reject(error);
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return file.readEntry();
        file.openReadStream(entry, (openError, stream) => {
          if (openError || !stream) return reject(openError);
          const out = join(dir, entry.fileName);
          mkdirSync(dirname(out), { recursive: true });
          pipeline(stream, createWriteStream(out)).then(() => file.readEntry(), reject);
        });
      });
      file.on('end', resolve);
      file.on('error', reject);
      file.readEntry();
    });
  });
}

describe('the packaged CloudFormation template, as deployed to an AWS account (issue 14)', () => {
  let root: string;
  let created: Template; // no parameters: the stack creates the bucket, no VPC
  let given: Template; // an existing bucket, a VPC, throttling by parameter
  let createdCa = false;
  const caPath = join(projectRoot, CA_IN_PACKAGE);
  const stackCa = () => readFileSync(stackEnv()['SALT_API_CA_FILE']!, 'utf8');

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'aws-template-'));
    // The deployer's CA file: this test puts the local stack's there (and removes it), unless one is there.
    if (!existsSync(caPath)) {
      mkdirSync(dirname(caPath), { recursive: true });
      copyFileSync(stackEnv()['SALT_API_CA_FILE']!, caPath);
      createdCa = true;
    }
    await packageStack('ci', join(root, 'created'), [], PACKAGE_TIME_SECRETS);
    await packageStack('ci', join(root, 'given'), [
      `--param=secretArn=${GIVEN_SECRET}`,
      '--param=artifactBucket=acme-shared-artifacts',
      '--param=subnetIds=subnet-0aaa, subnet-0bbb',
      '--param=securityGroupIds=sg-0ccc',
      '--param=httpApiBurstLimit=20',
      '--param=httpApiRateLimit=5',
      '--param=releaseEventBus=releases',
    ]);
    created = readTemplate(join(root, 'created'));
    given = readTemplate(join(root, 'given'));
  }, 520_000);
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    if (createdCa) rmSync(dirname(caPath), { recursive: true, force: true });
  });

  describe('the artifact bucket', () => {
    it('is created by the stack without parameters: versioned, private, KMS-encrypted, kept when the stack goes', () => {
      const [[id, bucket]] = ofType(created, 'AWS::S3::Bucket').filter(([id]) => id !== 'ServerlessDeploymentBucket') as [[string, Resource]];
      expect(id).toBe('S3BucketArtifacts');
      expect(bucket.Properties['BucketName']).toBe('saltstack-plugin-ci-artifacts');
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const [rule] = bucket.Properties['BucketEncryption'].ServerSideEncryptionConfiguration;
      expect(rule.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
      expect(JSON.stringify(rule.ServerSideEncryptionByDefault.KMSMasterKeyID)).toContain('ReleaseRecordsKey');
      // its notification is part of it (no custom resource), on the trigger's prefix and suffix only
      expect(ofType(created, 'Custom::S3')).toEqual([]);
      const [notification] = bucket.Properties['NotificationConfiguration'].LambdaConfigurations;
      expect(notification.Function).toEqual({ 'Fn::GetAtt': ['ReleaseTriggerLambdaFunction', 'Arn'] });
      expect(notification.Filter.S3Key.Rules).toEqual([
        { Name: 'prefix', Value: 'releases/' },
        { Name: 'suffix', Value: '.release.json' },
      ]);
    });

    it('lets S3 invoke the trigger before the bucket exists, naming it by string (no Ref: no dependency cycle)', () => {
      const bucket = created.Resources['S3BucketArtifacts']!;
      const permissions = ofType(created, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties['Principal'] === 's3.amazonaws.com');
      expect(permissions.map(([id]) => id)).toEqual(bucket.DependsOn);
      const [[, permission]] = permissions as [[string, Resource]];
      expect(permission.Properties['SourceArn']).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::saltstack-plugin-ci-artifacts']] });
      expect(permission.Properties['SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    });

    it('is the existing one given by --param artifactBucket: not created, its notification set by the custom resource', () => {
      expect(ofType(given, 'AWS::S3::Bucket').map(([id]) => id)).toEqual(['ServerlessDeploymentBucket']);
      const [[, notification]] = ofType(given, 'Custom::S3') as [[string, Resource]];
      expect(notification.Properties['BucketName']).toBe('acme-shared-artifacts');
      expect(notification.Properties['BucketConfigs'][0].Rules).toEqual([{ Prefix: 'releases/' }, { Suffix: '.release.json' }]);
      const env = given.Resources['ReleaseStartLambdaFunction']!.Properties['Environment'].Variables;
      expect(env['S3_BUCKET']).toBe('acme-shared-artifacts');
      const policy = JSON.stringify(roleOf(given, 'ReleaseStartLambdaFunction').Properties['Policies']);
      expect(policy).toContain(':s3:::acme-shared-artifacts/*');
      expect(rolesText(given)).not.toContain('saltstack-plugin-ci-artifacts');
    });
  });

  describe('the VPC', () => {
    it('is absent without parameters: no VpcConfig, no ENI policy on any role', () => {
      expect(ofType(created, 'AWS::Lambda::Function').filter(([, f]) => f.Properties['VpcConfig'])).toEqual([]);
      expect(rolesText(created)).not.toContain('AWSLambdaVPCAccessExecutionRole');
    });

    it('holds exactly the salt-, database- and SSH-facing functions when subnetIds and securityGroupIds are given', () => {
      const functions = ofType(given, 'AWS::Lambda::Function').filter(([id]) => id !== 'CustomDashresourceDashexistingDashs3LambdaFunction');
      const inVpc = functions.filter(([, f]) => f.Properties['VpcConfig']).map(([id]) => id);
      expect(inVpc.sort()).toEqual(
        functions
          .map(([id]) => id)
          .filter((id) => VPC_FUNCTIONS.test(id))
          .sort(),
      );
      expect(inVpc.length).toBeGreaterThan(30);
      for (const id of inVpc) {
        expect([id, given.Resources[id]!.Properties['VpcConfig']]).toEqual([id, { SubnetIds: ['subnet-0aaa', 'subnet-0bbb'], SecurityGroupIds: ['sg-0ccc'] }]);
      }
      // password/*, openapi, packages, release status/stop/list reach AWS APIs only: outside, no endpoint needed;
      // release/start and the trigger ask the master (keys, target expressions) before they start anything
      expect(given.Resources['PasswordEncodeLambdaFunction']!.Properties['VpcConfig']).toBeUndefined();
      expect(given.Resources['ReleaseStatusLambdaFunction']!.Properties['VpcConfig']).toBeUndefined();
      expect(given.Resources['ReleaseTriggerLambdaFunction']!.Properties['VpcConfig']).toBeDefined();
      expect(JSON.stringify(roleOf(given, 'RouterLambdaFunction'))).toContain('AWSLambdaVPCAccessExecutionRole');
      expect(JSON.stringify(roleOf(given, 'PasswordEncodeLambdaFunction'))).not.toContain('AWSLambdaVPCAccessExecutionRole');
    });

    it('refuses subnets without security groups', async () => {
      await expect(packageStack('ci', join(root, 'half-vpc'), ['--param=subnetIds=subnet-0aaa'])).rejects.toMatchObject({
        stdout: expect.stringContaining('give both'),
      });
    }, 120_000);
  });

  describe('observability', () => {
    it.each([
      ['created', () => created],
      ['given', () => given],
    ])('traces every function and logs it as JSON (%s)', (_, template) => {
      const functions = ofType(template(), 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('CustomDashresource'));
      expect(functions.length).toBeGreaterThan(40);
      for (const [id, f] of functions) {
        expect([id, f.Properties['TracingConfig'], f.Properties['LoggingConfig']]).toEqual([id, { Mode: 'Active' }, { LogFormat: 'JSON' }]);
      }
      for (const [id] of functions) expect([id, JSON.stringify(roleOf(template(), id))]).toEqual([id, expect.stringContaining('xray:PutTraceSegments')]);
    });

    it('traces the state machine and logs it at ERROR without execution data (releases carry secrets)', () => {
      const machine = created.Resources['ReleaseStateMachine']!.Properties;
      expect(machine['TracingConfiguration']).toEqual({ Enabled: true });
      expect(machine['LoggingConfiguration']).toEqual({
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['ReleaseStateMachineLogGroup', 'Arn'] } } }],
      });
      expect(created.Resources['ReleaseStateMachineLogGroup']!.Properties['RetentionInDays']).toBe(30);
    });

    it.each([
      ['created', () => created, 100, 50],
      ['given', () => given, 20, 5],
    ])('writes HTTP API access logs and throttles its stage (%s)', (_, template, burst, rate) => {
      const stage = template().Resources['HttpApiStage']!.Properties;
      expect(stage['DefaultRouteSettings']).toEqual({ ThrottlingBurstLimit: burst, ThrottlingRateLimit: rate });
      expect(stage['AccessLogSettings'].DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
      expect(template().Resources['HttpApiLogGroup']!.Type).toBe('AWS::Logs::LogGroup');
    });

    it('alarms on every function (errors, throttles), failed executions and the trigger failure queue, to AlarmTopic', () => {
      const alarms = ofType(created, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
      const watched = (namespace: string, metric: string) =>
        alarms.filter((a) => a['Namespace'] === namespace && a['MetricName'] === metric).map((a) => a['Dimensions']?.[0]?.Value?.Ref);
      const functions = ofType(created, 'AWS::Lambda::Function').map(([id]) => id);
      expect(watched('AWS/Lambda', 'Errors').sort()).toEqual([...functions].sort());
      expect(watched('AWS/Lambda', 'Throttles').sort()).toEqual([...functions].sort());
      const failed = alarms.find((a) => a['Namespace'] === 'AWS/States' && a['MetricName'] === 'ExecutionsFailed');
      expect(JSON.stringify(failed?.['Dimensions'])).toContain('ReleaseStateMachine');
      expect(alarms.find((a) => a['Namespace'] === 'AWS/SQS')?.['Dimensions']).toEqual([
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['ReleaseTriggerFailures', 'QueueName'] } },
      ]);
      for (const alarm of alarms) expect(alarm['AlarmActions']).toEqual([{ Ref: 'AlarmTopic' }]);
      // idle is not failing: no data keeps an alarm OK
      for (const alarm of alarms) expect(alarm['TreatMissingData']).toBe('notBreaching');
      expect(created.Outputs['AlarmTopicArn']!.Value).toEqual({ Ref: 'AlarmTopic' });
    });

    it("keeps the S3 trigger's failed events in an encrypted SQS queue (on-failure destination), which its role may write", () => {
      const [[, config]] = ofType(created, 'AWS::Lambda::EventInvokeConfig') as [[string, Resource]];
      expect(config.Properties['FunctionName']).toEqual({ Ref: 'ReleaseTriggerLambdaFunction' });
      expect(config.Properties['DestinationConfig']).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': ['ReleaseTriggerFailures', 'Arn'] } } });
      const queue = created.Resources['ReleaseTriggerFailures']!;
      expect(queue.Type).toBe('AWS::SQS::Queue');
      expect(queue.Properties['SqsManagedSseEnabled']).toBe(true);
      const statements = roleOf(created, 'ReleaseTriggerLambdaFunction').Properties['Policies'][0].PolicyDocument.Statement as Array<Record<string, unknown>>;
      expect(statements).toContainEqual({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['ReleaseTriggerFailures', 'Arn'] } });
    });
  });

  describe('secrets: read at run time from Secrets Manager, none in the template', () => {
    const functionsOf = (t: Template) => ofType(t, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('CustomDashresource'));
    /** The inline statements of each role a function runs under (one role per set of needs). */
    const rolesOfFunctions = (t: Template) =>
      [...new Set(functionsOf(t).map(([, f]) => (f.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]))].map((id) => [
        id,
        (t.Resources[id]!.Properties['Policies'] as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>).flatMap(
          (p) => p.PolicyDocument.Statement,
        ),
      ]) as Array<[string, Array<Record<string, unknown>>]>;

    it.each([
      ['created', () => created],
      ['given', () => given],
    ])('puts no secret-looking variable in any Environment, and no secret variable of the config (%s)', (_, template) => {
      const functions = functionsOf(template());
      expect(functions.length).toBeGreaterThan(40);
      for (const [id, f] of functions) {
        const names = Object.keys(f.Properties['Environment'].Variables as Record<string, unknown>);
        expect([id, names.filter((n) => SECRET_LOOKING.test(n) && !(n in NOT_SECRET))]).toEqual([id, []]);
        expect([id, names.filter((n) => SECRET_VARIABLES.includes(n as never))]).toEqual([id, []]);
      }
    });

    it("leaves the deployer's secret values out of the whole template, though they were in the packaging shell", () => {
      const text = JSON.stringify(created);
      for (const value of Object.values(PACKAGE_TIME_SECRETS)) expect(text).not.toContain(value);
    });

    it.each([
      ['created', () => created, { Ref: 'PluginSecrets' }],
      ['given', () => given, GIVEN_SECRET],
    ])('gives every function SECRETS_ID and lets the role read exactly that secret (%s)', (_, template, arn) => {
      for (const [id, f] of functionsOf(template())) expect([id, f.Properties['Environment'].Variables['SECRETS_ID']]).toEqual([id, arn]);
      const roles = rolesOfFunctions(template());
      expect(roles.length).toBeGreaterThan(1);
      for (const [id, statements] of roles) {
        const secretStatements = statements.filter((st) => JSON.stringify(st).includes('secretsmanager'));
        expect([id, secretStatements]).toEqual([id, [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: arn }]]);
      }
      expect(template().Outputs['SecretsArn']!.Value).toEqual(arn);
    });

    it('creates PluginSecrets without parameters, its JWT key generated, and not with --param secretArn', () => {
      const secret = created.Resources['PluginSecrets']!;
      expect(secret.Type).toBe('AWS::SecretsManager::Secret');
      expect(secret.Properties['Name']).toBe('saltstack-plugin-ci-secrets');
      expect(secret.Properties['GenerateSecretString']).toEqual({
        SecretStringTemplate: '{}',
        GenerateStringKey: 'JWT_SIGNING_KEY',
        PasswordLength: 88,
        ExcludePunctuation: true,
      });
      expect(secret.Properties['KmsKeyId']).toBeUndefined(); // aws/secretsmanager: no KMS grant on the role
      // decided at package time (no condition that could only ever be true or false: cfn-lint W8003)
      expect(secret.Condition).toBeUndefined();
      expect(given.Resources['PluginSecrets']).toBeUndefined();
      expect(JSON.stringify(given)).not.toContain('"Ref":"PluginSecrets"');
    });

    it('generates a JWT key the config takes: 88 letters and digits decode to a 66-byte (HS512-sized) key', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      for (let round = 0; round < 20; round++) {
        const generated = Array.from({ length: 88 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
        expect(decodeJwtKey(generated)).toHaveLength(66);
      }
    });

    it('runs the packaged function on them: host-info/query logs in to salt-api with the password from the secret', async () => {
      const dir = join(root, 'unzipped', 'hostInfoQuery-secrets');
      await extractZip(join(root, 'created', 'hostInfoQuery.zip'), dir);
      // The SDK is not in the zip: Lambda's runtime provides it. An ES module does not resolve through
      // NODE_PATH, so this project's node_modules stands in for the runtime's, beside the code.
      symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
      const env = stackEnv();
      // AWS stands in as a local Secrets Manager endpoint.
      const fake = await startFakeSecretsManager();
      const arn = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:saltstack-plugin-ci-secrets-Pk9Lm2';
      fake.secrets.set(arn, { text: JSON.stringify({ SALT_API_PASSWORD: env['SALT_API_PASSWORD'] }), versionId: 'v1' });
      try {
        const { reply, stdout } = await invokePackagedHostInfo(dir, {
          SALT_API_CA_FILE: CA_IN_PACKAGE,
          SECRETS_ID: arn,
          SECRETS_ENDPOINT: fake.url,
          // what Lambda gives every function: the role's credentials, for the SDK to sign with
          AWS_ACCESS_KEY_ID: 'ASIAFAKE',
          AWS_SECRET_ACCESS_KEY: 'fake-role-secret',
          AWS_SESSION_TOKEN: 'fake-session',
        });
        expect([reply.resultCode, reply.resultMessage]).toEqual(['0', 'success']);
        expect(Number(reply.results.outputs[0]!['numCpus'])).toBeGreaterThan(0);
        expect(fake.requests.map((r) => [r.target, r.body['SecretId']])).toEqual([['secretsmanager.GetSecretValue', arn]]);
        expect(stdout).not.toContain(env['SALT_API_PASSWORD']);
      } finally {
        await fake.close();
      }
    }, 120_000);

    it('refuses at package time a secretArn that is not a full secret ARN', async () => {
      await expect(
        packageStack('ci', join(root, 'partial-secret'), ['--param=secretArn=arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:acme']),
      ).rejects.toMatchObject({ stdout: expect.stringContaining('not the full ARN of a Secrets Manager secret') });
    }, 120_000);
  });

  it.each([
    ['created', () => created, 'default'],
    ['given', () => given, 'releases'],
  ])('lets the publishing functions PutEvents on the release event bus only, and tells them its name (%s: %s)', (_, template, busName) => {
    const statementsOfFn = (fn: string) => {
      const role = template().Resources[template().Resources[fn]!.Properties['Role']['Fn::GetAtt'][0]]!;
      return (role.Properties['Policies'] as Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> } }>).flatMap(
        (p) => p.PolicyDocument.Statement,
      );
    };
    const bus = { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'events', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, `event-bus/${busName}`]] };
    // the publishers' roles, and only theirs
    for (const fn of ['ReleaseStartLambdaFunction', 'ReleaseStopLambdaFunction', 'ReleaseFinishLambdaFunction', 'RouterLambdaFunction']) {
      const events = statementsOfFn(fn).filter((s) => JSON.stringify(s.Action).includes('events:'));
      expect([fn, events]).toEqual([fn, [{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: bus }]]);
    }
    for (const fn of ['PasswordEncodeLambdaFunction', 'ReleaseStatusLambdaFunction', 'ReleaseSliceLambdaFunction']) {
      expect([fn, statementsOfFn(fn).filter((s) => JSON.stringify(s.Action).includes('events:'))]).toEqual([fn, []]);
    }
    for (const fn of ['ReleaseStartLambdaFunction', 'ReleaseFinishLambdaFunction', 'RouterLambdaFunction']) {
      expect(template().Resources[fn]!.Properties['Environment']['Variables']['RELEASE_EVENT_BUS']).toBe(busName);
    }
  });

  it.each([
    ['created', () => created],
    ['given', () => given],
  ])('names no partition: every ARN is built with AWS::Partition (%s)', (_, template) => {
    // (the ARN the deployer gave is theirs, partition included)
    const text = JSON.stringify(template()).split(GIVEN_SECRET).join('');
    expect(text.match(/arn:aws[a-z-]*:/g)).toBeNull();
    expect(text).toContain('"Ref":"AWS::Partition"');
  });

  it('refuses at package time a stage name that would push a function name past 64 characters, naming the limit', async () => {
    const refused = packageStack('averyveryverylongstage', join(root, 'long'));
    await expect(refused).rejects.toMatchObject({
      stdout: expect.stringMatching(
        /Stage "averyveryverylongstage" is too long: .*releasedPackageGetConfigFileKey" has 71 characters, AWS allows 64\. Use a stage name of at most 15 characters/,
      ),
    });
    expect(existsSync(join(root, 'long', 'cloudformation-template-update-stack.json'))).toBe(false);
    // the longest that fits packages
    await packageStack('abcdefghijklmno', join(root, 'longest'));
    expect(Object.keys(readTemplate(join(root, 'longest')).Resources)).toContain('ReleasedPackageGetConfigFileKeyLambdaFunction');
  }, 300_000);

  describe('the salt-api CA shipped in every function (SALT_API_CA_FILE=certs/salt-api-ca.pem, from /var/task)', () => {
    it('is in every function zip, byte for byte', async () => {
      for (const zip of ['hostInfoQuery', 'router', 'releaseHostStep']) {
        const out = join(root, 'unzipped', zip);
        await extractZip(join(root, 'created', `${zip}.zip`), out);
        expect([zip, readFileSync(join(out, CA_IN_PACKAGE), 'utf8')]).toEqual([zip, stackCa()]);
      }
    });

    it('verifies salt-api with it: the packaged host-info/query reaches the TLS salt-api only with the shipped CA', async () => {
      const dir = join(root, 'unzipped', 'hostInfoQuery');
      if (!existsSync(join(dir, CA_IN_PACKAGE))) await extractZip(join(root, 'created', 'hostInfoQuery.zip'), dir);
      const env = stackEnv();
      // Its HTTP handler from the zip's directory, the working directory Lambda gives it.
      const run = async (caFile: string | undefined) =>
        (await invokePackagedHostInfo(dir, { SALT_API_PASSWORD: env['SALT_API_PASSWORD'], ...(caFile && { SALT_API_CA_FILE: caFile }) })).reply;
      expect(env['SALT_API_URL']).toMatch(/^https:/);
      const withCa = await run(CA_IN_PACKAGE);
      expect(withCa.resultCode).toBe('0');
      expect(withCa.results.outputs[0]!['errorCode']).toBe('0');
      expect(Number(withCa.results.outputs[0]!['numCpus'])).toBeGreaterThan(0);
      // control: the same call with the public CAs only fails verification of the stack's certificate
      const withoutCa = await run(undefined);
      expect(withoutCa.resultCode).toBe('1');
      expect(withoutCa.results.outputs[0]!['errorMessage']).toMatch(/could not be reached \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    }, 200_000);
  });
});
