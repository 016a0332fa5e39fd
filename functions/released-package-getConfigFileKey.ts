import { releasedPackageGetConfigFileKey } from '../lib/artifacts/released-package.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task } = serveOperation((rt) => releasedPackageGetConfigFileKey({ config: rt.config, store: rt.store }));
