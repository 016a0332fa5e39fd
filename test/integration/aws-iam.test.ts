import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureCfnLint } from '../../scripts/lib/cfn-lint.js';
import { projectRoot } from '../support/stack.js';

// Least privilege per function, the router URL's auth and cfn-lint on the packaged template (issue 14).
// The expected grants below are written from what each operation's core calls on AWS (read in lib/, not
// taken from lib/registry.ts, whose `aws` field the template is generated from): a wrong entry there fails here.

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: unknown; Metadata?: Record<string, any> };
interface Template {
  Resources: Record<string, Resource>;
}

const execFileAsync = promisify(execFile);
const serverless = join(projectRoot, 'node_modules', '.bin', 'serverless');
const OWN_KEY = 'arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** `serverless package --stage ci ...args` into `dir`, offline, without AWS credentials. */
function packageStack(dir: string, args: string[] = [], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  return execFileAsync(serverless, ['package', '--stage', 'ci', '--package', dir, ...args], { cwd: projectRoot, env, timeout: 240_000 });
}

// What each group of AWS calls needs (S3 asks KMS on the caller's behalf: the created bucket encrypts
// every object with the release records' key).
const READ = ['s3:GetObject', 's3:ListBucket', 'kms:Decrypt']; // GetObject, HeadObject, presigned GETs; 404 not 403
const WRITE = ['s3:PutObject', 's3:AbortMultipartUpload', 'kms:GenerateDataKey', 'kms:Decrypt']; // multipart: Decrypt
const DELETE = ['s3:DeleteObject'];
const START = ['states:StartExecution'];
const DESCRIBE = ['states:DescribeExecution'];
const FAILURES = ['sqs:SendMessage'];
const EVENTS = ['events:PutEvents'];

/** Every function and the AWS actions its role grants beyond its logs and X-Ray, with where they come from. */
const EXPECTED: Array<[string, string[], string]> = [
  ['PasswordEncode', [], 'in-process AES'],
  ['PasswordDecode', [], 'in-process AES'],
  ['PasswordSshkeygen', [], 'in-process key generation'],
  ['HostInfoQuery', [], 'salt only'],
  ['SaltApiCall', [], 'salt only'],
  ['Openapi', [], 'a bundled document'],
  ['AgentInstall', [...READ, ...WRITE], "the minion bundle's presigned URL; host keys kept in S3"],
  ['AgentUninstall', [...READ, ...WRITE], 'host keys kept in S3'],
  ['HostScriptRun', [...READ, ...WRITE, ...DELETE], 'S3 scripts (HEAD, presigned); inline content staged, then removed'],
  ['HostScriptRunLocal', [...READ, ...WRITE, ...DELETE], 'as run (endpointType may be S3 or USER_PARAM)'],
  ['HostScriptRunS3', [...READ, ...WRITE, ...DELETE], 'as run'],
  ['HostScriptRunUserParam', [...READ, ...WRITE, ...DELETE], 'as run'],
  ['HostScriptSshRun', [...READ, ...WRITE], 'S3 scripts read; host keys kept in S3'],
  ['MysqlScriptRun', READ, '.sql files and archives from S3'],
  ['MysqlScriptRunCustomSql', [], 'the database only'],
  ['MysqlDatabaseAdd', [], 'the database only'],
  ['MysqlDatabaseDelete', [], 'the database only'],
  ['MysqlUserAdd', [], 'the database only'],
  ['MysqlUserDelete', [], 'the database only'],
  ['MysqlUserChangePassword', [], 'the database only'],
  ['RedisUserAdd', [], 'Redis only'],
  ['RedisUserDelete', [], 'Redis only'],
  ['PackageVariableReplace', [...READ, ...WRITE, ...DELETE], 'package read, staging object written, copied, removed'],
  ['ReleasedPackageListCurrentDir', READ, 'the package read'],
  ['ReleasedPackageGetConfigFileKey', READ, 'the package read'],
  ['HostFileCopy', [...READ, ...WRITE, ...DELETE], 'presigned package; its normalised archive written, then removed'],
  ['HostFileCreate', [...READ, ...WRITE, ...DELETE], 'inline content staged, presigned, removed'],
  ['HostFileFind', [], 'salt only'],
  ['HostFileDelete', [], 'salt only'],
  ['HostUserAdd', [], 'salt only'],
  ['HostUserDelete', [], 'salt only'],
  ['HostUserPassword', [], 'salt only'],
  ['DiskGetUnformatedDisk', [], 'salt only'],
  ['DiskFormatAndMountDisk', [], 'salt only'],
  ['ApplyDeploymentNew', [...READ, ...WRITE, ...DELETE], 'package substituted and normalised, presigned, dropped'],
  ['ApplyDeploymentUpdate', [...READ, ...WRITE, ...DELETE], 'as new'],
  ['ApplyDeploymentDelete', [], 'on-host stop script and removal: salt only'],
  ['ReleaseStart', [...WRITE, ...START, ...EVENTS], 'request record and listing written (SSE-KMS), execution started, release.started published'],
  ['ReleaseStatus', [...READ, ...DESCRIBE], 'records read, execution described'],
  ['ReleaseStop', [...READ, ...WRITE, ...DESCRIBE, ...EVENTS], 'records read, stop record written, execution described, release.stopped published'],
  ['ReleaseList', READ, 'the newest-first index and the listing records read'],
  ['ReleaseTrigger', [...READ, ...WRITE, ...DESCRIBE, ...START, ...FAILURES, ...EVENTS], 'manifest read, result written, execution checked and started'],
  ['ReleasePrepare', [...READ, ...WRITE, ...DELETE], 'request read, package prepared, release record written'],
  ['ReleaseHostStep', [...READ, ...WRITE, ...EVENTS], 'records read, host record written, presigned package, release.host-failed published'],
  ['ReleaseAdvance', [...READ, ...WRITE, ...EVENTS], 'the stop record read, the progress record written, release.batch-ended published'],
  ['ReleaseSlice', READ, 'the release record read (its slice of a batch), the request record read to mask its secrets'],
  ['ReleaseFinish', [...READ, ...WRITE, ...DELETE, ...EVENTS], 'records written, secrets dropped, packages removed, release.ended published'],
  // it serves every operation in-process: the union of theirs (never the trigger's failure queue)
  ['Router', [...READ, ...WRITE, ...DELETE, ...START, ...DESCRIBE, ...EVENTS], 'every operation'],
];

// AWS does not scope these to a resource: X-Ray's (no resource-level permissions).
const UNSCOPED = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
// Every role reads the one secret of SECRETS_ID (custom.lambdaIam.everyRole; aws-template.test.ts checks its ARN).
const EVERY_ROLE = ['secretsmanager:GetSecretValue'];

const actions = (s: Statement) => [s.Action].flat();
const statementsOf = (role: Resource) =>
  (role.Properties['Policies'] as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) => p.PolicyDocument.Statement);
const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const roleIdOf = (t: Template, fn: string) => t.Resources[`${fn}LambdaFunction`]!.Properties['Role']['Fn::GetAtt'][0] as string;
/** The actions a function's role grants beyond its logs, X-Ray and its secret. */
const grants = (t: Template, fn: string) =>
  new Set(
    statementsOf(t.Resources[roleIdOf(t, fn)]!)
      .flatMap(actions)
      .filter((a) => !UNSCOPED.has(a) && !LOGS.includes(a) && !EVERY_ROLE.includes(a)),
  );

/** The `cfn-lint` ignore_checks of every resource that has some, by logical id. */
const suppressions = (t: Template) =>
  Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => r.Metadata?.['cfn-lint'])
      .map(([id, r]) => [id, r.Metadata!['cfn-lint'].config.ignore_checks]),
  );

describe('IAM per function, the router URL and cfn-lint on the packaged template (issue 14)', () => {
  let root: string;
  let plain: Template; // no parameters
  let given: Template; // an existing bucket, a VPC, the router URL public, a KMS key of one's own
  let cfnLint: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'aws-iam-'));
    // the project's pinned venv, installed on first use (npm test on a fresh machine)
    cfnLint = ensureCfnLint();
    await packageStack(join(root, 'plain'));
    await packageStack(
      join(root, 'given'),
      [
        '--param=artifactBucket=acme-shared-artifacts',
        '--param=subnetIds=subnet-0123456789abcdef0',
        '--param=securityGroupIds=sg-0123456789abcdef0',
        '--param=routerUrlAuth=NONE',
      ],
      { RELEASE_KMS_KEY_ID: OWN_KEY },
    );
    plain = JSON.parse(readFileSync(join(root, 'plain', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
    given = JSON.parse(readFileSync(join(root, 'given', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  }, 600_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('roles', () => {
    it("has no role shared by every function (serverless's IamRoleLambdaExecution is gone)", () => {
      expect(plain.Resources['IamRoleLambdaExecution']).toBeUndefined();
      const ours = ofType(plain, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('CustomDashresource'));
      expect(ours.map(([id]) => id.replace(/LambdaFunction$/, '')).sort()).toEqual(EXPECTED.map(([fn]) => fn).sort());
      const roles = new Set(ours.map(([id]) => roleIdOf(plain, id.replace(/LambdaFunction$/, ''))));
      expect(roles.size).toBeGreaterThan(8);
      // the stage's roles share a path (a bucket policy names them by it: docs/security.md)
      for (const role of roles) expect([role, plain.Resources[role]!.Properties['Path']]).toEqual([role, '/saltstack-plugin/ci/']);
    });

    it.each(EXPECTED)('%s: its role grants exactly what its code calls (%#)', (fn, expected, _why) => {
      expect([fn, [...grants(plain, fn)].sort()]).toEqual([fn, [...new Set(expected)].sort()]);
      expect([fn, [...grants(given, fn)].sort()]).toEqual([fn, [...new Set(expected)].sort()]);
    });

    it.each(EXPECTED)("%s: its role writes only its role's functions' log groups, its own among them", (fn) => {
      const roleId = roleIdOf(plain, fn);
      const sharing = ofType(plain, 'AWS::Lambda::Function')
        .filter(([, f]) => f.Properties['Role']['Fn::GetAtt'][0] === roleId)
        .map(([id]) => id.replace(/LambdaFunction$/, ''));
      const logs = statementsOf(plain.Resources[roleId]!).filter((s) => actions(s).some((a) => a.startsWith('logs:')));
      expect(logs).toHaveLength(1);
      expect(actions(logs[0]!).sort()).toEqual([...LOGS].sort());
      const groups = (logs[0]!.Resource as Array<{ 'Fn::GetAtt': [string, string] }>).map((r) => r['Fn::GetAtt'].join('.'));
      expect(groups.sort()).toEqual(sharing.map((id) => `${id}LogGroup.Arn`).sort());
      expect(sharing).toContain(fn);
    });

    it.each([
      ['plain', () => plain],
      ['given', () => given],
    ])('scopes every action to its resource; "*" only for X-Ray, which AWS does not scope (%s)', (_, template) => {
      const bucket = template() === plain ? 'saltstack-plugin-ci-artifacts' : 'acme-shared-artifacts';
      const key = template() === plain ? '{"Fn::GetAtt":["ReleaseRecordsKey","Arn"]}' : JSON.stringify(OWN_KEY);
      const expectedResource: Record<string, (r: string) => boolean> = {
        's3:GetObject': (r) => r.includes(`:s3:::${bucket}/*`),
        's3:PutObject': (r) => r.includes(`:s3:::${bucket}/*`),
        's3:AbortMultipartUpload': (r) => r.includes(`:s3:::${bucket}/*`),
        's3:DeleteObject': (r) => r.includes(`:s3:::${bucket}/*`),
        's3:ListBucket': (r) => r.includes(`:s3:::${bucket}"`),
        'kms:Decrypt': (r) => r === key,
        'kms:GenerateDataKey': (r) => r === key,
        'states:StartExecution': (r) => r.includes('"stateMachine","saltstack-plugin-ci-release"'),
        'states:DescribeExecution': (r) => r.includes('"execution","saltstack-plugin-ci-release","*"'),
        'sqs:SendMessage': (r) => r === '{"Fn::GetAtt":["ReleaseTriggerFailures","Arn"]}',
        'secretsmanager:GetSecretValue': (r) => r === '{"Ref":"PluginSecrets"}',
        'events:PutEvents': (r) => r.includes('"event-bus/default"'),
        'logs:CreateLogStream': (r) => /^\[(\{"Fn::GetAtt":\["\w+LogGroup","Arn"\]\},?)+\]$/.test(r),
        'logs:PutLogEvents': (r) => /^\[(\{"Fn::GetAtt":\["\w+LogGroup","Arn"\]\},?)+\]$/.test(r),
      };
      for (const fn of EXPECTED.map(([name]) => name)) {
        for (const statement of statementsOf(template().Resources[roleIdOf(template(), fn)]!)) {
          const resource = JSON.stringify(statement.Resource);
          for (const action of actions(statement)) {
            if (UNSCOPED.has(action)) expect(statement.Resource).toEqual(['*']);
            else expect([fn, action, expectedResource[action]?.(resource) ?? `no rule for ${action}`]).toEqual([fn, action, true]);
          }
        }
      }
    });

    it('grants ENIs (AWSLambdaVPCAccessExecutionRole) to exactly the roles of functions in the VPC, when one is given', () => {
      expect(ofType(plain, 'AWS::IAM::Role').filter(([, r]) => r.Properties['ManagedPolicyArns'])).toEqual([]);
      const lambdaRoles = new Set(ofType(given, 'AWS::Lambda::Function').map(([, f]) => f.Properties['Role']['Fn::GetAtt'][0] as string));
      const withEni = ofType(given, 'AWS::IAM::Role')
        .filter(([id, r]) => lambdaRoles.has(id) && JSON.stringify(r.Properties['ManagedPolicyArns'] ?? []).includes('AWSLambdaVPCAccessExecutionRole'))
        .map(([id]) => id);
      const inVpc = new Set(
        ofType(given, 'AWS::Lambda::Function')
          .filter(([, f]) => f.Properties['VpcConfig'])
          .map(([, f]) => f.Properties['Role']['Fn::GetAtt'][0] as string),
      );
      expect(withEni.sort()).toEqual([...inVpc].sort());
      expect(withEni).not.toContain(roleIdOf(given, 'PasswordEncode'));
      expect(withEni).toContain(roleIdOf(given, 'Router'));
    });
  });

  describe("the router's Function URL", () => {
    it('is AuthType AWS_IAM without parameters: no public permission, no AuthType NONE anywhere', () => {
      expect(plain.Resources['RouterLambdaFunctionUrl']!.Properties['AuthType']).toBe('AWS_IAM');
      expect(ofType(plain, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties['FunctionUrlAuthType'])).toEqual([]);
      expect(JSON.stringify(plain)).not.toMatch(/"(Function)?(Url)?AuthType":"NONE"/);
    });

    it('is AuthType NONE with --param routerUrlAuth=NONE (WeCube cannot sign; the JWT still applies), publicly invokable', () => {
      expect(given.Resources['RouterLambdaFunctionUrl']!.Properties['AuthType']).toBe('NONE');
      const [[, permission]] = ofType(given, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties['FunctionUrlAuthType']) as [[string, Resource]];
      expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' });
      expect(given.Resources['RouterLambdaFunction']!.Properties['Environment'].Variables['AUTH_MODE']).toBe('jwt');
    });

    it('refuses any other routerUrlAuth at package time, naming the two values', async () => {
      await expect(packageStack(join(root, 'bad-auth'), ['--param=routerUrlAuth=OPEN'])).rejects.toMatchObject({
        stdout: expect.stringContaining('--param routerUrlAuth=OPEN: AWS_IAM (the default'),
      });
    }, 120_000);

    it('refuses a RELEASE_KMS_KEY_ID that is not a key ARN (an IAM grant cannot name an alias)', async () => {
      await expect(packageStack(join(root, 'bad-key'), [], { RELEASE_KMS_KEY_ID: 'alias/releases' })).rejects.toMatchObject({
        stdout: expect.stringContaining("RELEASE_KMS_KEY_ID=alias/releases: give the key's ARN"),
      });
    }, 120_000);
  });

  describe('cfn-lint with the serverless rules (cfn-lint-serverless)', () => {
    it.each([
      ['plain', 'plain'],
      ['given', 'given'],
    ])(
      'passes on the %s template: exit 0, nothing reported',
      async (_, dir) => {
        const template = join(root, dir, 'cloudformation-template-update-stack.json');
        const { stdout, stderr } = await execFileAsync(cfnLint, ['-t', template, '-a', 'cfn_lint_serverless.rules', '-f', 'parseable'], { timeout: 120_000 });
        expect([stdout, stderr]).toEqual(['', '']);
      },
      150_000,
    );

    it('has only the suppressions documented with their reason (serverless.yml, serverless/plugins/template-hygiene.cjs)', () => {
      // ES6000: the failure queue is itself the end of the line; ES1007: the trigger has its on-failure
      // destination, which the rule misses (it compares a GetAtt Arn with a Ref literally)
      expect(suppressions(plain)).toEqual({ ReleaseTriggerFailures: ['ES6000'], ReleaseTriggerLambdaPermissionArtifactsS3: ['ES1007'] });
      expect(suppressions(given)).toEqual({ ReleaseTriggerFailures: ['ES6000'] });
      // and the checked condition of ES1007 holds
      const [[, config]] = ofType(plain, 'AWS::Lambda::EventInvokeConfig') as [[string, Resource]];
      expect(config.Properties['FunctionName']).toEqual({ Ref: 'ReleaseTriggerLambdaFunction' });
      expect(config.Properties['DestinationConfig'].OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['ReleaseTriggerFailures', 'Arn'] });
    });

    it("gives serverless's helper function (an existing bucket's notification) a log group, tracing, and its role their grants", () => {
      const helper = given.Resources['CustomDashresourceDashexistingDashs3LambdaFunction']!;
      expect(helper.Properties['TracingConfig']).toEqual({ Mode: 'Active' });
      const logGroup = given.Resources['CustomDashresourceDashexistingDashs3LogGroup']!;
      expect(logGroup.Properties).toEqual({ LogGroupName: '/aws/lambda/saltstack-plugin-ci-custom-resource-existing-s3', RetentionInDays: 30 });
      const statements = statementsOf(given.Resources[helper.Properties['Role']['Fn::GetAtt'][0]]!);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: LOGS,
        Resource: [{ 'Fn::GetAtt': ['CustomDashresourceDashexistingDashs3LogGroup', 'Arn'] }],
      });
      expect(statements.flatMap(actions)).toContain('xray:PutTraceSegments');
    });

    it('keeps no DependsOn that a reference already implies (W3005)', () => {
      for (const [id, resource] of Object.entries(plain.Resources)) {
        const text = JSON.stringify(resource.Properties ?? {});
        for (const dependency of [resource.DependsOn ?? []].flat() as string[]) {
          expect([id, dependency, text.includes(`{"Ref":"${dependency}"}`) || text.includes(`"Fn::GetAtt":["${dependency}"`)]).toEqual([id, dependency, false]);
        }
      }
      // the functions still wait for their log groups (not referenced: Lambda writes to them by name)
      expect(plain.Resources['PasswordEncodeLambdaFunction']!.DependsOn).toEqual(['PasswordEncodeLogGroup']);
    });
  });
});
