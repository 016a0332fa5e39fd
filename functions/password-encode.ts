import { passwordEncode } from '../lib/crypto/password-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => passwordEncode(rt.config));
