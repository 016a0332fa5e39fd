import { SecretsError } from '../errors.js';
import type { SecretSource, SecretValue } from './secret-source.js';

type SecretsManagerModule = typeof import('@aws-sdk/client-secrets-manager');
type Client = InstanceType<SecretsManagerModule['SecretsManagerClient']>;

export interface SecretsManagerSettings {
  /** SECRETS_ENDPOINT: another endpoint than AWS's (tests); undefined means Secrets Manager itself. */
  endpoint?: string | undefined;
  /** The secret's region (from its ARN); undefined means the Lambda's (AWS_REGION, read by the SDK). */
  region?: string | undefined;
  /** Static credentials (tests against a local endpoint); undefined means the default chain (the role). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Bound of one GetSecretValue, retries included. */
  timeoutMs?: number | undefined;
}

/** What to do about each Secrets Manager error name; another name is transient (retry). */
const ADVICE: Record<string, string> = {
  ResourceNotFoundException: 'no such secret: check SECRETS_ID and its region',
  AccessDeniedException:
    "the function's role may not read it: grant secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key if it has its own)",
  UnrecognizedClientException: 'the credentials were refused: check the role of the function',
  DecryptionFailure: "its KMS key refused to decrypt it: allow the function's role kms:Decrypt on that key",
  InvalidRequestException: 'it is scheduled for deletion or not usable: restore it or point SECRETS_ID at another',
  InvalidParameterException: 'SECRETS_ID is not a valid secret id or ARN',
  TimeoutError: 'Secrets Manager did not answer in time (in a VPC: is there an endpoint or a NAT?): retry',
  AbortError: 'Secrets Manager did not answer in time (in a VPC: is there an endpoint or a NAT?): retry',
  ECONNREFUSED: 'Secrets Manager cannot be reached (SECRETS_ENDPOINT, or in a VPC: an endpoint or a NAT): retry',
  ENOTFOUND: 'Secrets Manager cannot be reached (SECRETS_ENDPOINT, or in a VPC: an endpoint or a NAT): retry',
  ETIMEDOUT: 'Secrets Manager did not answer in time (in a VPC: is there an endpoint or a NAT?): retry',
};

const IDENTIFIER = /^[A-Za-z][\w.]{0,99}$/;

/**
 * The SDK error as a SecretsError: the secret id and the error's name (or, for a plain network Error, its
 * code: ECONNREFUSED) only, since its message may quote the request or the reply.
 */
export function translateSecretsError(error: unknown, id: string): SecretsError {
  const { name, code: raw } = (error ?? {}) as { name?: unknown; code?: unknown };
  const pick = (v: unknown) => (typeof v === 'string' && IDENTIFIER.test(v) && v !== 'Error' ? v : undefined);
  const code = pick(name) ?? pick(raw) ?? 'UnknownError';
  return new SecretsError(`Secrets Manager refused to read the secret ${id} (${code}): ${ADVICE[code] ?? 'retry later'}`, id, code);
}

/** AWS Secrets Manager through the SDK (loaded on first use); SDK errors translated at this edge. */
export class AwsSecretsManager implements SecretSource {
  private client: Promise<{ sdk: SecretsManagerModule; client: Client }> | undefined;

  constructor(private readonly settings: SecretsManagerSettings = {}) {}

  private sdk() {
    const { endpoint, region, credentials } = this.settings;
    return (this.client ??= import('@aws-sdk/client-secrets-manager').then((sdk) => ({
      sdk,
      client: new sdk.SecretsManagerClient({
        ...(endpoint && { endpoint }),
        ...(region && { region }),
        ...(credentials && { credentials }),
        maxAttempts: 3,
        // A cold start waits for this call: a dead endpoint fails it in seconds, not at the Lambda timeout.
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
      }),
    })));
  }

  async getSecret(id: string, signal?: AbortSignal): Promise<SecretValue> {
    const deadline = AbortSignal.timeout(this.settings.timeoutMs ?? 15_000);
    let out;
    try {
      const { sdk, client } = await this.sdk();
      out = await client.send(new sdk.GetSecretValueCommand({ SecretId: id }), { abortSignal: signal ? AbortSignal.any([signal, deadline]) : deadline });
    } catch (error) {
      throw translateSecretsError(error, id);
    }
    if (typeof out.SecretString !== 'string') {
      throw new SecretsError(`The secret ${id} has no SecretString (a binary secret): store a JSON object of variable names to values`, id, 'NoSecretString');
    }
    return { text: out.SecretString, versionId: out.VersionId };
  }
}
