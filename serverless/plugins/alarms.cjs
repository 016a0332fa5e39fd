// CloudWatch alarms on every Lambda function of the stack (Errors, Throttles) and on the release trigger's
// failure queue, all notifying the stack's AlarmTopic (subscribe to it; README, Deploying). Added to the
// compiled template so that a function added to the registry gets its alarms without a line here. The
// state machine's failed executions are alarmed by serverless-step-functions (serverless.yml).
const METRICS = [
  ['Errors', 'failed invocations (an unhandled error or a timeout)'],
  ['Throttles', 'invocations refused for lack of concurrency (reserved or account)'],
];

class Alarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.add() };
  }

  add() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const alarm = (description, namespace, metric, dimensions) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: description,
        Namespace: namespace,
        MetricName: metric,
        Dimensions: dimensions,
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // No invocation is no error: an idle stack stays OK.
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      },
    });
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const name = resource.Properties.FunctionName;
      for (const [metric, meaning] of METRICS) {
        resources[`${id}${metric}Alarm`] = alarm(`${name}: ${meaning}`, 'AWS/Lambda', metric, [{ Name: 'FunctionName', Value: { Ref: id } }]);
      }
    }
    // serverless.yml's own resources are merged after this hook
    if (this.serverless.service.resources?.Resources?.ReleaseTriggerFailures) {
      resources.ReleaseTriggerFailuresAlarm = {
        ...alarm(
          'S3-started releases whose trigger failed after its retries (messages in ReleaseTriggerFailures)',
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ReleaseTriggerFailures', 'QueueName'] } }],
        ),
      };
      resources.ReleaseTriggerFailuresAlarm.Properties.Statistic = 'Maximum';
    }
  }
}

module.exports = Alarms;
