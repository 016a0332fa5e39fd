// Least privilege per function (issue 14): one IAM role per set of needs, instead of serverless's one role
// for every function. serverless/roles.yml (generated from lib/registry.ts: each entry's `aws` needs) names
// each role's needs and functions, and each function's `role:` (serverless/functions.yml) names its role;
// this plugin creates the roles, each with:
//   - custom.lambdaIam.everyRole (statements every function gets),
//   - the statements of its needs (custom.lambdaIam.needs: the artifact bucket, the KMS key, the state
//     machine, the failure queue), statements on the same resource merged into one,
//   - CreateLogStream/PutLogEvents on its own functions' log groups only,
//   - X-Ray (xray:PutTraceSegments/PutTelemetryRecords: AWS does not scope them to a resource, hence "*"),
//   - AWSLambdaVPCAccessExecutionRole (ENIs) only when one of its functions has a VpcConfig (VPC params given),
// and the path /<service>/<stage>/.
// The router serves every operation in-process: its role is the union of theirs (scripts/lib/serverless-functions.ts).
class LambdaRoles {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.add() };
  }

  fail(message) {
    throw new this.serverless.classes.Error(`${message} (serverless/roles.yml is generated: run \`npm run generate\`)`, 'LAMBDA_ROLES');
  }

  add() {
    const { service } = this.serverless;
    const naming = this.serverless.getProvider('aws').naming;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const { lambdaIam, lambdaRoles } = service.custom;
    const serviceName = service.service;
    const stage = this.serverless.getProvider('aws').getStage();
    const assigned = new Set();
    for (const [roleId, { needs, functions }] of Object.entries(lambdaRoles)) {
      for (const key of functions) {
        const fn = service.getAllFunctions().includes(key) ? service.getFunction(key) : undefined;
        if (!fn) this.fail(`role ${roleId}: no function ${key}`);
        if (fn.role !== roleId) this.fail(`function ${key} has role ${fn.role}, serverless/roles.yml gives it ${roleId}`);
        assigned.add(key);
      }
      const statements = [...(lambdaIam.everyRole ?? [])];
      for (const need of needs) {
        const granted = lambdaIam.needs[need];
        if (!granted) this.fail(`role ${roleId}: need ${need} has no statements in custom.lambdaIam.needs`);
        statements.push(...granted);
      }
      statements.push({
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: functions.map((key) => ({ 'Fn::GetAtt': [naming.getLogGroupLogicalId(key), 'Arn'] })),
      });
      if (service.provider.tracing?.lambda) {
        statements.push({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'] });
      }
      const inVpc = functions.some((key) => resources[naming.getLambdaLogicalId(key)]?.Properties?.VpcConfig);
      resources[roleId] = {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
          },
          // Names are CloudFormation's (<stack>-<logical id>-<random>, unique across regions); the path is the
          // stable handle on every role of a stage, e.g. in a bucket policy: arn:...:role/<service>/<stage>/*
          Path: `/${serviceName}/${stage}/`,
          Policies: [
            {
              PolicyName: { 'Fn::Join': ['-', [serviceName, stage, 'lambda']] },
              PolicyDocument: { Version: '2012-10-17', Statement: merged(statements) },
            },
          ],
          ...(inVpc && {
            ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }],
          }),
        },
      };
    }
    const unassigned = service.getAllFunctions().filter((key) => !assigned.has(key));
    if (unassigned.length) this.fail(`functions without a role in serverless/roles.yml: ${unassigned.join(', ')}`);
  }
}

/** Statements with the same effect, resource and condition, as one statement with the union of their actions. */
function merged(statements) {
  const byResource = new Map();
  for (const statement of statements) {
    const key = JSON.stringify([statement.Effect, statement.Resource, statement.Condition ?? null]);
    const seen = byResource.get(key);
    if (!seen) {
      byResource.set(key, { ...statement });
      continue;
    }
    const actions = [...new Set([seen.Action, statement.Action].flat())];
    seen.Action = actions;
  }
  return [...byResource.values()];
}

module.exports = LambdaRoles;
