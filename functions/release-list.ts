import { releaseList } from '../lib/releases/release-list.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => releaseList(rt));
