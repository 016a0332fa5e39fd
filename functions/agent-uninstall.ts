import { agentDeps } from '../lib/agent/agent-deps.js';
import { agentUninstall } from '../lib/agent/agent-uninstall.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => agentUninstall(agentDeps(rt)));
