import { releasedPackageListCurrentDir } from '../lib/artifacts/released-package.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => releasedPackageListCurrentDir(rt));
