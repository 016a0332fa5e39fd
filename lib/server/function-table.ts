/**
 * Every function module the production server serves, imported by literal specifiers so that esbuild puts
 * them in the one server bundle (a directory scan, as `npm start` does, cannot be bundled). The operations
 * of lib/registry.ts and the OpenAPI document; test/unit/server/function-table.test.ts fails when an
 * operation is missing here. The release trigger (S3 events) and the release tasks are not HTTP routes: the
 * in-process release runner calls the tasks itself (lib/runtime.ts).
 */
import * as agentInstall from '../../functions/agent-install.js';
import * as agentUninstall from '../../functions/agent-uninstall.js';
import * as applyDeploymentDelete from '../../functions/apply-deployment-delete.js';
import * as applyDeploymentNew from '../../functions/apply-deployment-new.js';
import * as applyDeploymentUpdate from '../../functions/apply-deployment-update.js';
import * as diskFormatAndMountDisk from '../../functions/disk-formatAndMountDisk.js';
import * as diskGetUnformatedDisk from '../../functions/disk-getUnformatedDisk.js';
import * as hostFileCopy from '../../functions/host-file-copy.js';
import * as hostFileCreate from '../../functions/host-file-create.js';
import * as hostFileDelete from '../../functions/host-file-delete.js';
import * as hostFileFind from '../../functions/host-file-find.js';
import * as hostInfoQuery from '../../functions/host-info-query.js';
import * as hostScriptRun from '../../functions/host-script-run.js';
import * as hostScriptRunLocal from '../../functions/host-script-run-local.js';
import * as hostScriptRunS3 from '../../functions/host-script-run-s3.js';
import * as hostScriptRunUserParam from '../../functions/host-script-run-user-param.js';
import * as hostScriptSshRun from '../../functions/host-script-ssh-run.js';
import * as hostUserAdd from '../../functions/host-user-add.js';
import * as hostUserDelete from '../../functions/host-user-delete.js';
import * as hostUserPassword from '../../functions/host-user-password.js';
import * as mysqlDatabaseAdd from '../../functions/mysql-database-add.js';
import * as mysqlDatabaseDelete from '../../functions/mysql-database-delete.js';
import * as mysqlScriptRun from '../../functions/mysql-script-run.js';
import * as mysqlScriptRunCustomSql from '../../functions/mysql-script-run-custom-sql.js';
import * as mysqlUserAdd from '../../functions/mysql-user-add.js';
import * as mysqlUserChangePassword from '../../functions/mysql-user-change-password.js';
import * as mysqlUserDelete from '../../functions/mysql-user-delete.js';
import * as openapi from '../../functions/openapi.js';
import * as packageVariableReplace from '../../functions/package-variable-replace.js';
import * as passwordDecode from '../../functions/password-decode.js';
import * as passwordEncode from '../../functions/password-encode.js';
import * as passwordSshkeygen from '../../functions/password-sshkeygen.js';
import * as redisUserAdd from '../../functions/redis-user-add.js';
import * as redisUserDelete from '../../functions/redis-user-delete.js';
import * as releaseStart from '../../functions/release-start.js';
import * as releaseStatus from '../../functions/release-status.js';
import * as releasedPackageGetConfigFileKey from '../../functions/released-package-getConfigFileKey.js';
import * as releasedPackageListCurrentDir from '../../functions/released-package-listCurrentDir.js';
import * as saltApiCall from '../../functions/salt-api-call.js';
import type { FunctionModule } from './route-table.js';

/** The modules by file name under functions/ (without .ts). */
export const SERVER_FUNCTIONS: ReadonlyArray<readonly [file: string, module: FunctionModule]> = [
  ['agent-install', agentInstall],
  ['agent-uninstall', agentUninstall],
  ['apply-deployment-delete', applyDeploymentDelete],
  ['apply-deployment-new', applyDeploymentNew],
  ['apply-deployment-update', applyDeploymentUpdate],
  ['disk-formatAndMountDisk', diskFormatAndMountDisk],
  ['disk-getUnformatedDisk', diskGetUnformatedDisk],
  ['host-file-copy', hostFileCopy],
  ['host-file-create', hostFileCreate],
  ['host-file-delete', hostFileDelete],
  ['host-file-find', hostFileFind],
  ['host-info-query', hostInfoQuery],
  ['host-script-run', hostScriptRun],
  ['host-script-run-local', hostScriptRunLocal],
  ['host-script-run-s3', hostScriptRunS3],
  ['host-script-run-user-param', hostScriptRunUserParam],
  ['host-script-ssh-run', hostScriptSshRun],
  ['host-user-add', hostUserAdd],
  ['host-user-delete', hostUserDelete],
  ['host-user-password', hostUserPassword],
  ['mysql-database-add', mysqlDatabaseAdd],
  ['mysql-database-delete', mysqlDatabaseDelete],
  ['mysql-script-run', mysqlScriptRun],
  ['mysql-script-run-custom-sql', mysqlScriptRunCustomSql],
  ['mysql-user-add', mysqlUserAdd],
  ['mysql-user-change-password', mysqlUserChangePassword],
  ['mysql-user-delete', mysqlUserDelete],
  ['openapi', openapi],
  ['package-variable-replace', packageVariableReplace],
  ['password-decode', passwordDecode],
  ['password-encode', passwordEncode],
  ['password-sshkeygen', passwordSshkeygen],
  ['redis-user-add', redisUserAdd],
  ['redis-user-delete', redisUserDelete],
  ['release-start', releaseStart],
  ['release-status', releaseStatus],
  ['released-package-getConfigFileKey', releasedPackageGetConfigFileKey],
  ['released-package-listCurrentDir', releasedPackageListCurrentDir],
  ['salt-api-call', saltApiCall],
];
