import { packageVariableReplace } from '../lib/artifacts/package-variable-replace-operation.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => packageVariableReplace(rt));
