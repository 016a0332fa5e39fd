import { passwordSshkeygen } from '../lib/crypto/password-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task } = serveOperation((rt) => passwordSshkeygen(rt.config));
