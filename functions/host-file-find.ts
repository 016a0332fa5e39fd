import { hostFileFind } from '../lib/files/host-file-find-operation.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostFileFind(rt));
