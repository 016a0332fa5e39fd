import { agentDeps } from '../lib/agent/agent-deps.js';
import { agentInstall } from '../lib/agent/agent-install.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => agentInstall(agentDeps(rt)));
