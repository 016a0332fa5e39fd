import { agentDeps } from './agent/agent-deps.js';
import { agentInstall } from './agent/agent-install.js';
import { agentUninstall } from './agent/agent-uninstall.js';
import { packageVariableReplace } from './artifacts/package-variable-replace.js';
import { releasedPackageGetConfigFileKey, releasedPackageListCurrentDir } from './artifacts/released-package.js';
import { passwordDecode, passwordEncode, passwordSshkeygen } from './crypto/password-operations.js';
import { mysqlDatabaseAdd, mysqlDatabaseDelete } from './mysql/mysql-database-operations.js';
import { mysqlDeps } from './mysql/mysql-deps.js';
import { mysqlScriptRun, mysqlScriptRunCustomSql } from './mysql/mysql-script-operations.js';
import { mysqlUserAdd, mysqlUserChangePassword, mysqlUserDelete } from './mysql/mysql-user-operations.js';
import { mysqlScriptDeps } from './mysql/script-deps.js';
import { redisDeps } from './redis/redis-deps.js';
import { redisUserAdd, redisUserDelete } from './redis/redis-user-operations.js';
import { applyDeploymentDelete, applyDeploymentNew, applyDeploymentUpdate } from './deploy/apply-deployment.js';
import { releaseStart, releaseStatus } from './releases/release-api.js';
import { diskFormatAndMountDisk, diskGetUnformatedDisk } from './disks/disk-operations.js';
import { hostFileCopy } from './files/host-file-copy.js';
import { hostFileCreate } from './files/host-file-create.js';
import { hostFileDelete } from './files/host-file-delete.js';
import { hostFileFind } from './files/host-file-find.js';
import type { Runtime } from './runtime.js';
import { hostScriptRun } from './scripts/host-script-run.js';
import { hostScriptDeps, sshRunDeps } from './scripts/script-deps.js';
import { hostScriptSshRun } from './scripts/ssh-run.js';
import { hostInfoQuery } from './salt/host-info.js';
import { saltApiCall } from './salt/salt-api-call.js';
import { hostUserAdd, hostUserDelete, hostUserPassword } from './users/host-user-operations.js';
import type { Operation } from './wecube/operation.js';

/** Every operation the plugin serves (the local server and the OpenAPI document use this list). */
export function allOperations(rt: Runtime): Operation[] {
  return [
    passwordEncode(rt.config),
    passwordDecode(rt.config),
    passwordSshkeygen(rt.config),
    hostInfoQuery(rt.salt),
    agentInstall(agentDeps(rt)),
    agentUninstall(agentDeps(rt)),
    saltApiCall(rt.salt, rt.config.saltApiCallEnabled),
    hostScriptRun(hostScriptDeps(rt), 'run'),
    hostScriptRun(hostScriptDeps(rt), 'run-local'),
    hostScriptRun(hostScriptDeps(rt), 'run-s3'),
    hostScriptRun(hostScriptDeps(rt), 'run-user-param'),
    hostScriptSshRun(sshRunDeps(rt)),
    mysqlScriptRun(mysqlScriptDeps(rt)),
    mysqlScriptRunCustomSql(mysqlDeps(rt)),
    mysqlDatabaseAdd(mysqlDeps(rt)),
    mysqlDatabaseDelete(mysqlDeps(rt)),
    mysqlUserAdd(mysqlDeps(rt)),
    mysqlUserDelete(mysqlDeps(rt)),
    mysqlUserChangePassword(mysqlDeps(rt)),
    redisUserAdd(redisDeps(rt)),
    redisUserDelete(redisDeps(rt)),
    packageVariableReplace({ config: rt.config, store: rt.store }),
    releasedPackageListCurrentDir({ config: rt.config, store: rt.store }),
    releasedPackageGetConfigFileKey({ config: rt.config, store: rt.store }),
    hostFileCopy(rt),
    hostFileCreate(rt),
    hostFileFind(rt),
    hostFileDelete(rt),
    hostUserAdd(rt),
    hostUserDelete(rt),
    hostUserPassword(rt),
    diskGetUnformatedDisk(rt),
    diskFormatAndMountDisk(rt),
    applyDeploymentNew(rt),
    applyDeploymentUpdate(rt),
    applyDeploymentDelete(rt),
    releaseStart(rt),
    releaseStatus(rt),
  ] as Operation[];
}
