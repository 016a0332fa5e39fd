/** A secret's current value, as Secrets Manager's GetSecretValue returns it. */
export interface SecretValue {
  /** The SecretString. */
  text: string;
  versionId?: string | undefined;
}

/** Where the secret of SECRETS_ID is read from: AWS Secrets Manager (aws-secrets-manager.ts) or a fake in tests. */
export interface SecretSource {
  /** The secret's current value. Throws SecretsError naming the secret (never its value). */
  getSecret(id: string, signal?: AbortSignal): Promise<SecretValue>;
}
