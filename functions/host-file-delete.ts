import { hostFileDelete } from '../lib/files/host-file-delete.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostFileDelete(rt));
