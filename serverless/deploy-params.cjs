// Stage parameters (`--param="name=value"`, or `params:` per stage in serverless.yml, where `${ssm:...}` works)
// turned into the parts of the configuration that differ by their presence: YAML variables cannot branch.
//   artifactBucket    an existing bucket (name): used as is, its notification set by serverless's custom
//                     resource; empty: the stack creates `<service>-<stage>-artifacts` (provider.s3.artifacts).
//   subnetIds, securityGroupIds
//                     comma-separated: the salt- and database-facing functions run in that VPC; both or neither.
//   httpApiBurstLimit, httpApiRateLimit
//                     the HTTP API stage's default route throttling (requests; requests per second).
//   secretArn         an existing Secrets Manager secret (its full ARN): the functions' SECRETS_ID, the role may
//                     read it only; empty: the stack creates PluginSecrets (`<service>-<stage>-secrets`).
//   routerUrlAuth     the router's Function URL: AWS_IAM (the default: callers sign with SigV4, and need
//                     lambda:InvokeFunctionUrl on it) or NONE (anyone may call it: for WeCube, which cannot
//                     sign; the plugin's own JWT check still refuses a call without the platform token).
//   releaseEventBus   the EventBridge bus of release events (a name in the stack's account and region, or an
//                     ARN); empty: the account's default bus. The functions may PutEvents on that bus only.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// The full ARN, with the 6-character suffix Secrets Manager adds: IAM matches the ARN exactly.
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;
const EVENT_BUS_NAME = /^[A-Za-z0-9._\-/]{1,256}$/;
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256}$/;

/** The bus named by `releaseEventBus` (default: the account's default bus): what the functions are told, and its ARN. */
function eventBusOf(value) {
  const bus = String(value ?? '').trim() || 'default';
  if (EVENT_BUS_ARN.test(bus)) return { bus, arn: bus };
  if (!EVENT_BUS_NAME.test(bus) || bus.startsWith('arn:')) throw new Error(`--param releaseEventBus=${bus}: not an EventBridge bus name or ARN`);
  return {
    bus,
    arn: { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'events', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, `event-bus/${bus}`]] },
  };
}

function list(value) {
  return String(value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function positive(name, value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--param ${name}=${value}: a positive number is required`);
  return number;
}

const ROUTER_URL_AUTH = ['AWS_IAM', 'NONE'];
// An IAM statement's Resource must be the key's ARN (not its id or an alias) for the functions' KMS grants.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

module.exports = async ({ resolveVariable }) => {
  const param = async (name, fallback = '') => (await resolveVariable(`param:${name}, null`)) ?? fallback;
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');

  const existingBucket = String(await param('artifactBucket')).trim();
  if (existingBucket && !BUCKET_NAME.test(existingBucket)) throw new Error(`--param artifactBucket=${existingBucket}: not an S3 bucket name`);
  const bucketName = existingBucket || `${service}-${stage}-artifacts`;

  const existingSecret = String(await param('secretArn')).trim();
  if (existingSecret && !SECRET_ARN.test(existingSecret)) {
    throw new Error(
      `--param secretArn=${existingSecret}: not the full ARN of a Secrets Manager secret (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as \`aws secretsmanager describe-secret\` prints it)`,
    );
  }

  const subnetIds = list(await param('subnetIds'));
  const securityGroupIds = list(await param('securityGroupIds'));
  if (subnetIds.length > 0 !== securityGroupIds.length > 0) {
    throw new Error('--param subnetIds and securityGroupIds: give both (the VPC of the salt- and database-facing functions) or neither');
  }

  const routerUrlAuth = String(await param('routerUrlAuth', 'AWS_IAM')).trim();
  if (!ROUTER_URL_AUTH.includes(routerUrlAuth)) {
    throw new Error(
      `--param routerUrlAuth=${routerUrlAuth}: AWS_IAM (the default, SigV4-signed calls) or NONE (public URL, for WeCube, which cannot sign; the JWT still applies)`,
    );
  }

  // RELEASE_KMS_KEY_ID (custom.releaseKmsKeyId): a key of your own, or empty: the stack creates ReleaseRecordsKey.
  const ownKey = String((await resolveVariable('self:custom.releaseKmsKeyId')) ?? '').trim();
  if (ownKey && !KMS_KEY_ARN.test(ownKey)) {
    throw new Error(`RELEASE_KMS_KEY_ID=${ownKey}: give the key's ARN (arn:<partition>:kms:<region>:<account>:key/<id>), which the functions' IAM grants name`);
  }

  const eventBus = eventBusOf(await param('releaseEventBus'));

  return {
    artifactBucket: bucketName,
    releaseEventBus: eventBus.bus,
    releaseEventBusArn: eventBus.arn,
    releaseKmsKeyArn: ownKey || { 'Fn::GetAtt': ['ReleaseRecordsKey', 'Arn'] },
    releaseKeyResources: ownKey ? {} : await resolveVariable('self:custom.releaseKeyResources'),
    // the router's `url`: serverless's `authorizer: aws_iam` is AuthType AWS_IAM; `true` is AuthType NONE
    // (and the public lambda:InvokeFunctionUrl permission that comes with it).
    routerUrl: routerUrlAuth === 'NONE' ? true : { authorizer: 'aws_iam' },
    // The trigger's s3 event: `artifacts` names provider.s3.artifacts (created with the stack, and its
    // notification with it); an existing bucket's notification is set by a custom resource instead.
    artifactBucketEvent: existingBucket ? { bucket: existingBucket, existing: true } : { bucket: 'artifacts', existing: false },
    // the ARN every function reads and may read; PluginSecrets created only when none is given
    secretsArn: existingSecret || { Ref: 'PluginSecrets' },
    secretResources: existingSecret ? {} : await resolveVariable('self:custom.pluginSecretsResources'),
    // null: no VpcConfig (the function runs outside any VPC).
    vpc: subnetIds.length > 0 ? { subnetIds, securityGroupIds } : null,
    resourceExtensions: {
      // A created bucket outlives the stack: it holds packages and release records.
      // (ownership: provider.s3 has no such property; ACLs disabled, the default of new buckets, stated anyway)
      ...(existingBucket
        ? {}
        : {
            S3BucketArtifacts: {
              DeletionPolicy: 'Retain',
              UpdateReplacePolicy: 'Retain',
              Properties: { OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } },
            },
          }),
      HttpApiStage: {
        Properties: {
          DefaultRouteSettings: {
            ThrottlingBurstLimit: positive('httpApiBurstLimit', await param('httpApiBurstLimit', 100)),
            ThrottlingRateLimit: positive('httpApiRateLimit', await param('httpApiRateLimit', 50)),
          },
        },
      },
    },
  };
};
