import { hostScriptRun } from '../lib/scripts/host-script-run-operation.js';
import { hostScriptDeps } from '../lib/scripts/script-deps.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => hostScriptRun(hostScriptDeps(rt), 'run-user-param'));
