/** serverless/deploy-params.cjs: the stage parameters turned into template parts (here: the release event bus). */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';

type Params = { releaseEventBus: string; releaseEventBusArn: unknown };
const deployParams = createRequire(import.meta.url)('../../serverless/deploy-params.cjs') as (options: {
  resolveVariable: (name: string) => Promise<unknown>;
}) => Promise<Params>;

/** The params of a stage given `--param` values. */
const paramsOf = (given: Record<string, string>) =>
  deployParams({
    resolveVariable: async (name) => {
      if (name === 'self:service') return 'saltstack-plugin';
      if (name === 'sls:stage') return 'dev';
      const param = /^param:(\w+), null$/.exec(name)?.[1];
      return param ? (given[param] ?? null) : null;
    },
  });

const busArn = (bus: string) => ({
  'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'events', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, `event-bus/${bus}`]],
});

describe('releaseEventBus', () => {
  it.each([
    ['no parameter: the default bus', {}, 'default', busArn('default')],
    ['a name: that bus of the stack account and region', { releaseEventBus: 'releases' }, 'releases', busArn('releases')],
    [
      'an ARN: that bus, as given (another account or region)',
      { releaseEventBus: 'arn:aws:events:eu-west-1:123456789012:event-bus/central' },
      'arn:aws:events:eu-west-1:123456789012:event-bus/central',
      'arn:aws:events:eu-west-1:123456789012:event-bus/central',
    ],
  ])('%s', async (_, given, bus, arn) => {
    expect(await paramsOf(given)).toMatchObject({ releaseEventBus: bus, releaseEventBusArn: arn });
  });

  it.each([['arn:aws:sqs:eu-west-1:123456789012:queue'], ['bus with spaces']])('refuses %j, naming the parameter', async (value) => {
    await expect(paramsOf({ releaseEventBus: value })).rejects.toThrow(`--param releaseEventBus=${value}: not an EventBridge bus name or ARN`);
  });
});
