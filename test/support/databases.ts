/** Helpers of the database integration tests: direct connections to the stack's MariaDB, Redis and S3. */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createConnection, type Connection } from 'mysql2/promise';
import { createClient } from '@redis/client';
import tar from 'tar-stream';
import yazl from 'yazl';
import { createS3Client, S3Store } from '../../lib/artifacts/s3-store.js';
import { stackConfig, stackEnv } from './stack.js';

/** A name no other test run uses: `<prefix>_<pid>_<random>`. */
export const unique = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;

export const mysqlEnv = () => {
  const env = stackEnv();
  return { host: env['MYSQL_HOST']!, port: Number(env['MYSQL_PORT']), user: env['MYSQL_USER']!, password: env['MYSQL_PASSWORD']! };
};

/** A connection as the stack's admin account (`plugin`, ALL WITH GRANT OPTION). */
export const adminConnection = (): Promise<Connection> => createConnection({ ...mysqlEnv(), multipleStatements: false });

/** Logs in as `user` with `password`: the open connection, or the server's error code. */
export async function login(user: string, password: string, database?: string): Promise<Connection | string> {
  try {
    return await createConnection({ host: mysqlEnv().host, port: mysqlEnv().port, user, password, ...(database && { database }), connectTimeout: 5000 });
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** SHOW GRANTS of an account, one string per line. */
export async function grantsOf(admin: Connection, user: string, host = '%'): Promise<string[]> {
  const [rows] = await admin.query({ sql: 'SHOW GRANTS FOR ?@?', values: [user, host], rowsAsArray: true });
  return (rows as string[][]).map((r) => r[0]!);
}

export async function schemaNames(admin: Connection, like: string): Promise<string[]> {
  const [rows] = await admin.query({
    sql: 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1',
    values: [like],
    rowsAsArray: true,
  });
  return (rows as string[][]).map((r) => r[0]!);
}

export async function accountExists(admin: Connection, user: string): Promise<boolean> {
  const [rows] = await admin.query({ sql: 'SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', values: [user, '%'] });
  return (rows as unknown[]).length > 0;
}

/** Puts an object into the stack's artifacts bucket and returns its path-style URL. */
export async function putArtifact(key: string, body: Buffer | string): Promise<string> {
  const config = stackConfig();
  const store = new S3Store(createS3Client(config.s3));
  const url = `${config.s3.endpoint}/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`;
  await store.put({ bucket: 'artifacts', key, url }, Readable.from([Buffer.from(body)]));
  return url;
}

export async function removeArtifact(key: string): Promise<void> {
  const config = stackConfig();
  await new S3Store(createS3Client(config.s3)).remove({ bucket: 'artifacts', key, url: key });
}

/** A tar.gz holding `files` (path -> content). */
export async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [name, content] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644 }, content, (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

/** A zip holding `files` (path -> content). */
export async function zip(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), name);
  z.end();
  const out = new PassThrough();
  z.outputStream.pipe(out);
  const chunks: Buffer[] = [];
  for await (const c of out) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const redisEnv = () => {
  const env = stackEnv();
  return { host: env['REDIS_HOST']!, port: Number(env['REDIS_PORT']), password: env['REDIS_PASSWORD']! };
};

/** Runs `fn` with a Redis client logged in as `username` (the default user when absent). */
export async function asRedisUser<T>(
  username: string | undefined,
  password: string,
  fn: (send: (args: string[]) => Promise<unknown>) => Promise<T>,
): Promise<T> {
  const { host, port } = redisEnv();
  const client = createClient({ socket: { host, port, reconnectStrategy: false, connectTimeout: 5000 }, ...(username && { username }), password });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn((args) => client.sendCommand(args));
  } finally {
    client.destroy();
  }
}

/** The reply of one command, or the error text Redis answered with. */
export const replyOf = async (send: (args: string[]) => Promise<unknown>, args: string[]): Promise<unknown> => {
  try {
    return await send(args);
  } catch (error) {
    return (error as Error).message.split(' ')[0];
  }
};
