// A function declared `vpc: ${self:custom.vpc, null}` runs outside any VPC when the stage gives none; serverless
// would still grant the shared role AWSLambdaVPCAccessExecutionRole (ENI management) for the mere `vpc` key,
// so the key is dropped before the role is built.
class VpcOptional {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:setupProviderConfiguration': () => this.drop() };
  }

  drop() {
    const { service } = this.serverless;
    for (const key of service.getAllFunctions()) {
      const fn = service.getFunction(key);
      if ('vpc' in fn && fn.vpc == null) delete fn.vpc;
    }
  }
}

module.exports = VpcOptional;
