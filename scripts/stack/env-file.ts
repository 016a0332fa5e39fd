/** STACK_DIR/stack.env: the connection settings of this stack that the tests, the benchmarks and `npm start` read. */
import { STACK_APPS_MOUNT } from './context.js';
import { put, secret } from './files.js';
import { run } from './proc.js';
import { apiUrl } from './services/salt-api.js';
import type { Stack } from './supervisor.js';

export async function writeEnv(stack: Stack): Promise<void> {
  const { paths: p, ports } = stack;
  const fp = await run('ssh-keygen', ['-lf', `${p.ssh.hostKey}.pub`]);
  const fingerprint = fp.stdout.split(/\s+/)[1] ?? '';
  const s = (name: string) => secret(p.secrets, name);
  const env: Record<string, string | number> = {
    STACK_DIR: p.dir,
    SALT_API_URL: apiUrl(stack),
    SALT_API_EAUTH: 'file',
    SALT_API_USER: 'saltapi',
    SALT_API_PASSWORD: s('salt-api'),
    SALT_API_CA_FILE: p.tls.ca,
    SALT_MASTER_CONFIG_DIR: p.salt.etc,
    SALT_VENV: p.venv,
    STACK_MINIONS: stack.minions.join(','),
    S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    S3_BUCKET: 'artifacts',
    S3_FORCE_PATH_STYLE: 'true',
    RELEASE_UPLOADERS: 'AWS:S3RVER',
    MYSQL_HOST: '127.0.0.1',
    MYSQL_PORT: ports.mysql,
    MYSQL_USER: 'plugin',
    MYSQL_PASSWORD: s('mysql'),
    MYSQL_SOCKET: p.mariadb.socket,
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: ports.redis,
    REDIS_PASSWORD: s('redis'),
    REDIS_TLS_PORT: ports.redisTls,
    STACK_CA_FILE: p.tls.ca,
    SSH_HOST: '127.0.0.1',
    SSH_PORT: ports.ssh,
    SSH_USER: 'root',
    SSH_KEY_FILE: p.ssh.clientKey,
    SSH_HOST_KEY_FINGERPRINT: fingerprint,
    AGENT_MINION_MASTERS: '127.0.0.1',
    AGENT_MINION_MASTER_PORT: ports.saltRet,
    AGENT_MINION_PUBLISH_PORT: ports.saltPublish,
    STACK_APPS_MOUNT,
    STACK_HOSTS_DIR: p.hosts,
    STACK_S3_HOOKS_DIR: p.s3.hooks,
  };
  put(
    p.envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    0o600,
  );
}
