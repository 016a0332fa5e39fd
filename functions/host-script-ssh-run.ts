import { sshRunDeps } from '../lib/scripts/script-deps.js';
import { hostScriptSshRun } from '../lib/scripts/ssh-run-operation.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostScriptSshRun(sshRunDeps(rt)));
