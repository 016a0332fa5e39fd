import { hostFileCopy } from '../lib/files/host-file-copy-operation.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostFileCopy(rt));
