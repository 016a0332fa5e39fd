// Fails `serverless package` (before anything is bundled) when the stage name makes a resource name longer
// than AWS accepts: a function name `<service>-<stage>-<function>` is limited to 64 characters, and
// CloudFormation would only refuse it mid-deploy, after creating half the stack.
const LIMITS = { functionName: 64, stateMachineName: 80, bucketName: 63 };

class NameLimits {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:cleanup': () => this.check() };
  }

  check() {
    const { service } = this.serverless;
    const stage = this.serverless.getProvider('aws').getStage();
    const names = [
      ...service.getAllFunctions().map((key) => ['functionName', service.getFunction(key).name]),
      ...Object.values(service.stepFunctions?.stateMachines ?? {}).map((machine) => ['stateMachineName', machine.name]),
      // a bucket given by parameter is not named after the stage
      ...(service.custom.artifactBucketEvent?.existing ? [] : [['bucketName', service.custom.artifactBucket]]),
    ].filter(([, name]) => typeof name === 'string');
    const tooLong = names.filter(([kind, name]) => name.length > LIMITS[kind]);
    if (tooLong.length === 0) return;
    // The stage length every name would fit with: each name's fixed part is its length minus the stage's.
    const maxStage = Math.min(...names.map(([kind, name]) => LIMITS[kind] - (name.length - stage.length)));
    const [kind, longest] = tooLong.sort((a, b) => b[1].length - a[1].length)[0];
    throw new this.serverless.classes.Error(
      `Stage "${stage}" is too long: ${kind} "${longest}" has ${longest.length} characters, AWS allows ${LIMITS[kind]}. ` +
        `Use a stage name of at most ${maxStage} characters.`,
      'STAGE_NAME_TOO_LONG',
    );
  }
}

module.exports = NameLimits;
