import { releaseStop } from '../lib/releases/release-api.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => releaseStop(rt));
