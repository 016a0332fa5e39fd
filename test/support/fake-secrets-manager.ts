/**
 * A local HTTP server speaking the Secrets Manager JSON 1.1 protocol (POST /, `X-Amz-Target:
 * secretsmanager.GetSecretValue`, `application/x-amz-json-1.1`): it stands in for AWS itself, so that the
 * real SDK client, its signing, retries and error parsing run against it. It records every request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecret {
  text: string;
  versionId: string;
}

export interface ReceivedRequest {
  target: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** How the fake answers one secret id instead of with its value: an AWS error (`__type`, `message`). */
export type FakeFailure = { status: number; type: string; message: string };

export interface FakeSecretsManager {
  url: string;
  secrets: Map<string, FakeSecret>;
  failures: Map<string, FakeFailure>;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

const nameOf = (arn: string) => arn.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') ?? arn;

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, FakeSecret>();
  const failures = new Map<string, FakeFailure>();
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `fake-${requests.length}` });
        res.end(JSON.stringify(body));
      };
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'body is not JSON' });
      }
      const target = req.headers['x-amz-target'] as string | undefined;
      requests.push({ target, contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        return reply(400, { __type: 'UnknownOperationException', message: `unknown operation ${String(target)}` });
      }
      const id = String(body['SecretId'] ?? '');
      const failure = failures.get(id);
      if (failure) return reply(failure.status, { __type: failure.type, message: failure.message });
      const secret = secrets.get(id);
      if (!secret) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      reply(200, {
        ARN: id,
        Name: nameOf(id),
        SecretString: secret.text,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secrets,
    failures,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
