import { passwordDecode, passwordEncode, passwordSshkeygen } from './crypto/password-operations.js';
import type { Runtime } from './runtime.js';
import { hostInfoQuery } from './salt/host-info.js';
import { saltApiCall } from './salt/salt-api-call.js';
import type { Operation } from './wecube/operation.js';

/** Every operation the plugin serves (the local server and the OpenAPI document use this list). */
export function allOperations(rt: Runtime): Operation[] {
  return [
    passwordEncode(rt.config),
    passwordDecode(rt.config),
    passwordSshkeygen(rt.config),
    hostInfoQuery(rt.salt),
    saltApiCall(rt.salt, rt.config.saltApiCallEnabled),
  ] as Operation[];
}
