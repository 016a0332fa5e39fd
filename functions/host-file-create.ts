import { hostFileCreate } from '../lib/files/host-file-create.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostFileCreate(rt));
