// What cfn-lint (with the serverless rules) finds in the template serverless writes, fixed on the final
// template (after serverless.yml's own resources are merged), just before it is written:
//   - serverless's own helper function (the notification of an existing bucket, `Custom::S3`) gets what ours
//     have: X-Ray tracing (WS1000), a log group with the stack's retention (WS1004), and its role may write
//     them (serverless gives it no log permission at all);
//   - an S3-invoked function's permission names it by ARN, its EventInvokeConfig by name: ES1007 compares the
//     two literally and misses the on-failure destination, so the permission says why ES1007 is off, once
//     this plugin has checked that the destination exists;
//   - DependsOn entries that a Ref, Fn::GetAtt or Fn::Sub in the same resource already implies (W3005):
//     serverless adds them for every function's role, every HTTP API route's integration, the HTTP API
//     stage's log group and the state machine's role; CloudFormation orders by the reference anyway.
const ASYNC_PRINCIPALS = ['s3.amazonaws.com', 'sns.amazonaws.com', 'events.amazonaws.com'];

class TemplateHygiene {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => {
        const { Resources: resources } = this.serverless.service.provider.compiledCloudFormationTemplate;
        this.helperFunctions(resources);
        this.asyncPermissions(resources);
        this.dependsOn(resources);
      },
    };
  }

  helperFunctions(resources) {
    const { provider } = this.serverless.service;
    const logGroups = new Set(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::Logs::LogGroup')
        .map((r) => r.Properties?.LogGroupName),
    );
    for (const [id, fn] of Object.entries(resources)) {
      if (fn.Type !== 'AWS::Lambda::Function' || typeof fn.Properties.FunctionName !== 'string') continue;
      const name = `/aws/lambda/${fn.Properties.FunctionName}`;
      if (logGroups.has(name)) continue;
      const logGroupId = `${id.replace(/LambdaFunction$/, '')}LogGroup`;
      resources[logGroupId] = { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: name, RetentionInDays: provider.logRetentionInDays } };
      fn.DependsOn = [...[fn.DependsOn ?? []].flat(), logGroupId];
      const statements = [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [{ 'Fn::GetAtt': [logGroupId, 'Arn'] }] }];
      if (provider.tracing?.lambda && !fn.Properties.TracingConfig) {
        fn.Properties.TracingConfig = { Mode: 'Active' };
        // AWS does not scope the X-Ray actions to a resource
        statements.push({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'] });
      }
      const role = resources[fn.Properties.Role?.['Fn::GetAtt']?.[0]];
      if (!role?.Properties?.Policies?.[0]) {
        throw new this.serverless.classes.Error(`function ${id}: its role is not in the template, so it cannot be granted its logs`, 'TEMPLATE_HYGIENE');
      }
      role.Properties.Policies[0].PolicyDocument.Statement.push(...statements);
    }
  }

  asyncPermissions(resources) {
    const target = (value) => value?.Ref ?? value?.['Fn::GetAtt']?.[0];
    const withDestination = new Set(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && r.Properties.DestinationConfig?.OnFailure?.Destination)
        .map((r) => target(r.Properties.FunctionName)),
    );
    for (const permission of Object.values(resources)) {
      if (permission.Type !== 'AWS::Lambda::Permission' || !ASYNC_PRINCIPALS.includes(permission.Properties.Principal)) continue;
      if (!withDestination.has(target(permission.Properties.FunctionName))) continue; // ES1007 is right: let it say so
      permission.Metadata = {
        ...permission.Metadata,
        'cfn-lint': {
          config: {
            // ES1007: the function has an EventInvokeConfig with an on-failure destination (checked above);
            // the rule compares FunctionName expressions literally (GetAtt Arn here, Ref there).
            ignore_checks: ['ES1007'],
          },
        },
      };
    }
  }

  dependsOn(resources) {
    for (const resource of Object.values(resources)) {
      if (resource.DependsOn === undefined) continue;
      const referenced = references(resource.Properties);
      const kept = [resource.DependsOn].flat().filter((id) => !referenced.has(id));
      if (kept.length === 0) delete resource.DependsOn;
      else resource.DependsOn = kept;
    }
  }
}

/** The logical ids a resource's properties name through Ref, Fn::GetAtt or Fn::Sub. */
function references(value, found = new Set()) {
  if (Array.isArray(value)) {
    for (const item of value) references(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt') found.add(Array.isArray(inner) ? inner[0] : String(inner).split('.')[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner;
        for (const [, name] of String(text).matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) found.add(name);
        // the variables map of Fn::Sub may reference resources too
        if (Array.isArray(inner)) references(inner[1], found);
      }
      if (key !== 'Fn::Sub') references(inner, found);
    }
  }
  return found;
}

module.exports = TemplateHygiene;
