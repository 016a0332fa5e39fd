/**
 * Domain errors. One class per thing the caller must do next; `name` is a string literal because
 * minifiers rename classes and Step Functions `ErrorEquals` matches on it.
 * Messages name the field, host or file, and never carry secrets or raw HTTP/SDK errors.
 */
export abstract class PluginError extends Error {
  abstract override readonly name: string;
  abstract readonly code: string;
  /** The item's `errorCode` in the WeCube envelope: "1", except where upstream answers otherwise. */
  readonly errorCode: '1' | '2' = '1';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The request or one of its items is invalid: fix the input; retrying the same input fails again. */
export class InputError extends PluginError {
  override readonly name = 'InputError';
  readonly code = 'E_INPUT';
}

/** Configuration is missing or invalid (an env variable): fix the deployment. */
export class ConfigError extends PluginError {
  override readonly name = 'ConfigError';
  readonly code = 'E_CONFIG';
}

/** The caller is not authenticated or lacks the SUB_SYSTEM role. */
export class AuthError extends PluginError {
  override readonly name = 'AuthError';
  readonly code = 'E_AUTH';
}

/** A decode/encode of a {cipher_a} secret failed (wrong guid/seed, corrupt text). */
export class SecretError extends PluginError {
  override readonly name = 'SecretError';
  readonly code = 'E_SECRET';
}

/** salt-api did not answer, timed out, or answered with a 5xx: transient, retry later. */
export class SaltApiUnavailableError extends PluginError {
  override readonly name = 'SaltApiUnavailableError';
  readonly code = 'E_SALT_UNAVAILABLE';
}

/** salt-api refused our credentials (login failed, or 401 after one re-login): fix SALT_API_* settings. */
export class SaltApiAuthError extends PluginError {
  override readonly name = 'SaltApiAuthError';
  readonly code = 'E_SALT_AUTH';
}

/** salt-api rejected the request itself (4xx other than 401): a bug or a disabled client. */
export class SaltApiRequestError extends PluginError {
  override readonly name = 'SaltApiRequestError';
  readonly code = 'E_SALT_REQUEST';
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A salt-api reply was larger than SALT_REPLY_MAX_BYTES and was not read further (a minion returned a huge
 * result): not transient; narrow the call (fewer hosts, a smaller output) or raise the cap.
 */
export class SaltReplyTooLargeError extends PluginError {
  override readonly name = 'SaltReplyTooLargeError';
  readonly code = 'E_SALT_REPLY_TOO_LARGE';
}

/** A target host did not return (minion down, unknown id, deadline passed). */
export class TargetNoReturnError extends PluginError {
  override readonly name = 'TargetNoReturnError';
  readonly code = 'E_NO_RETURN';
  constructor(
    message: string,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The function ran on the host and failed (non-zero exit, exception, failed state). */
export class JobFailedError extends PluginError {
  override readonly name = 'JobFailedError';
  readonly code = 'E_JOB_FAILED';
  constructor(
    message: string,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The plugin's own queue toward salt was full until the deadline (SALT_MAX_JOBS, SALT_MAX_JOBS_PER_MINION):
 * the minions were not asked anything. Retrying later helps; the hosts are not unreachable.
 */
export class SaltBusyError extends PluginError {
  override readonly name = 'SaltBusyError';
  readonly code = 'E_SALT_BUSY';
  constructor(
    message: string,
    readonly hosts: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An async salt job did not finish before its deadline. */
export class JobTimeoutError extends PluginError {
  override readonly name = 'JobTimeoutError';
  readonly code = 'E_JOB_TIMEOUT';
  constructor(
    message: string,
    readonly jid: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An SSH server offered a host key other than the pinned or recorded one (or an unknown key under a
 * known-only policy): verify the host, then update the record or pin its fingerprint. Never retried.
 */
export class HostKeyError extends PluginError {
  override readonly name = 'HostKeyError';
  readonly code = 'E_HOST_KEY';
}

/** An S3 object named by an endpoint does not exist. */
export class ArtifactNotFoundError extends PluginError {
  override readonly name = 'ArtifactNotFoundError';
  readonly code = 'E_ARTIFACT_NOT_FOUND';
}

/** released-package/listCurrentDir: the listed directory is not in the package; upstream answers errorCode "2". */
export class PackageDirNotFoundError extends ArtifactNotFoundError {
  override readonly errorCode = '2' as const;
}

/** The artifact store (S3) refused or failed a request other than "not found": permissions, network, server. */
export class ArtifactStoreError extends PluginError {
  override readonly name = 'ArtifactStoreError';
  readonly code = 'E_ARTIFACT_STORE';
}

/** The operation exists but is switched off by configuration. */
export class OperationDisabledError extends PluginError {
  override readonly name = 'OperationDisabledError';
  readonly code = 'E_DISABLED';
}

/**
 * A database server (MySQL/MariaDB, Redis) refused a statement or a command: fix the script, the names or
 * the grants. `errno`/`sqlState`/`serverCode` carry the server's own error code when it sent one.
 */
export class DatabaseError extends PluginError {
  override readonly name = 'DatabaseError';
  readonly code = 'E_DATABASE';
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;
  readonly serverCode: string | undefined;
  constructor(
    message: string,
    details: { errno?: number | undefined; sqlState?: string | undefined; serverCode?: string | undefined } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.errno = details.errno;
    this.sqlState = details.sqlState;
    this.serverCode = details.serverCode;
  }
}

/** A database server could not be reached, or did not answer in time: transient, retry later. */
export class DatabaseUnavailableError extends PluginError {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'E_DB_UNAVAILABLE';
}

/** A message safe to show to a caller: our own errors verbatim, anything else generic. */
export function publicMessage(error: unknown): string {
  if (error instanceof PluginError) return error.message;
  return 'Internal error (see the plugin log for the request id)';
}

/**
 * agent/install or agent/uninstall failed at a named step on a host (sudo refused, package or start failed,
 * step timed out): read the message, fix the host, then retry. `step` names the step for a state machine.
 */
export class AgentInstallError extends PluginError {
  override readonly name = 'AgentInstallError';
  readonly code = 'E_AGENT_INSTALL';
  constructor(
    message: string,
    readonly host: string,
    readonly step: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The master holds a key for the minion id whose fingerprint is not the one read from the host (a pending
 * key from another machine, or a stale accepted key without `reinstall`): nothing was accepted; verify
 * which machine owns the id, then delete the wrong key or retry with reinstall.
 */
export class AgentKeyError extends PluginError {
  override readonly name = 'AgentKeyError';
  readonly code = 'E_AGENT_KEY';
  constructor(
    message: string,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A release's health check kept failing on a host (the state machine retries it, then rolls the host back). */
export class HealthCheckFailedError extends PluginError {
  override readonly name = 'HealthCheckFailedError';
  readonly code = 'E_HEALTH_CHECK';
  constructor(
    message: string,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Putting a failed host back (stop the new version, restore the snapshot, start the previous one) failed. */
export class RollbackFailedError extends PluginError {
  override readonly name = 'RollbackFailedError';
  readonly code = 'E_ROLLBACK';
  constructor(
    message: string,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A release with this id (execution name) exists already: the same manifest or request was started before. */
export class ReleaseExistsError extends PluginError {
  override readonly name = 'ReleaseExistsError';
  readonly code = 'E_RELEASE_EXISTS';
}

/** No release (execution) with this id. */
export class ReleaseNotFoundError extends PluginError {
  override readonly name = 'ReleaseNotFoundError';
  readonly code = 'E_RELEASE_NOT_FOUND';
}

/** release/stop was asked for: a host step refuses to begin, and the host is put back (state machine: RollBack). */
export class StopRequestedError extends PluginError {
  override readonly name = 'StopRequestedError';
  readonly code = 'E_RELEASE_STOPPED';
}

/** Step Functions refused or failed a call other than "exists" / "not found" (permissions, throttling, network). */
export class StepFunctionsError extends PluginError {
  override readonly name = 'StepFunctionsError';
  readonly code = 'E_STEP_FUNCTIONS';
}

/**
 * The Secrets Manager secret of SECRETS_ID could not be read (no such secret, access denied, its KMS key
 * refused, no answer in time): `awsCode` is the SDK's error name. The message names the secret and what
 * to do, never a value.
 */
export class SecretsError extends PluginError {
  override readonly name = 'SecretsError';
  readonly code = 'E_SECRETS';
  constructor(
    message: string,
    readonly secretId: string,
    readonly awsCode: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A release event was not taken by its destination (EventBridge, the webhook): logged and counted in the
 * release records (`eventsFailed`), never failing the release. Fix the destination or its settings.
 */
export class EventPublishError extends PluginError {
  override readonly name = 'EventPublishError';
  readonly code = 'E_EVENT_PUBLISH';
  constructor(
    message: string,
    /** Worth another attempt (a timeout, a 5xx, a throttle). */
    readonly transient: boolean,
  ) {
    super(message);
  }
}
