/** The stack's CA and the one server certificate salt-api, MariaDB and Redis serve (127.0.0.1, localhost). */
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StackError, say } from './context.js';
import { run } from './proc.js';
import type { Stack } from './supervisor.js';

const nonEmpty = (path: string) => existsSync(path) && statSync(path).size > 0;

export async function ensureTls(stack: Stack): Promise<void> {
  const t = stack.paths.tls;
  const log = join(stack.paths.log, 'tls.log');
  mkdirSync(t.dir, { recursive: true });
  const openssl = async (args: string[], what: string) => {
    const r = await run('openssl', args, { log, env: { ...process.env } });
    if (r.code !== 0) throw new StackError(`openssl: ${what} failed (see ${log})`);
  };
  if (!nonEmpty(t.ca) || !nonEmpty(t.caKey)) {
    say('tls: creating CA');
    rmSync(t.cert, { force: true });
    rmSync(t.key, { force: true });
    await openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '3650',
        '-keyout',
        t.caKey,
        '-out',
        t.ca,
        '-subj',
        '/CN=saltstack-plugin local stack CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      'CA creation',
    );
    chmodSync(t.caKey, 0o600);
    chmodSync(t.ca, 0o644);
  }
  const valid = nonEmpty(t.cert) && nonEmpty(t.key) && (await run('openssl', ['x509', '-checkend', '86400', '-noout', '-in', t.cert])).code === 0;
  if (valid) return;
  say('tls: creating the server certificate (salt-api, mariadb, redis)');
  const csr = join(t.dir, 'server.csr');
  const ext = join(t.dir, 'server.ext');
  writeFileSync(
    ext,
    [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', t.key, '-out', csr, '-subj', '/CN=localhost'], 'server key');
  chmodSync(t.key, 0o600);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      t.ca,
      '-CAkey',
      t.caKey,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      '825',
      '-sha256',
      '-out',
      t.cert,
      '-extfile',
      ext,
    ],
    'server certificate',
  );
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
  chmodSync(t.cert, 0o644);
  for (const name of ['salt-api', 'mariadb', 'redis']) stack.changed.add(name); // all three serve it
}
