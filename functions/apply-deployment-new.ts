import { applyDeploymentNew } from '../lib/deploy/apply-deployment.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => applyDeploymentNew(rt));
