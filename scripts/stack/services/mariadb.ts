/**
 * MariaDB on 127.0.0.1 with its own data directory, user `plugin` (all privileges). TLS is offered with the
 * stack's certificate and not required, so both the plain and the TLS paths are tested on one server.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../context.js';
import { put, secret } from '../files.js';
import { run, spawnDetached, tail } from '../proc.js';
import type { Service, Stack } from '../supervisor.js';
import { which } from '../system-packages.js';

export function mariadb(stack: Stack): Service {
  const { mariadb: m, tls, log } = stack.paths;
  const logFile = join(log, 'mariadb.log');
  const args = [
    '--no-defaults',
    `--datadir=${m.data}`,
    `--socket=${m.socket}`,
    `--port=${stack.ports.mysql}`,
    '--bind-address=127.0.0.1',
    `--pid-file=${m.pid}`,
    '--user=root',
    `--log-error=${logFile}`,
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    '--innodb-buffer-pool-size=64M',
    `--ssl-ca=${tls.ca}`,
    `--ssl-cert=${tls.cert}`,
    `--ssl-key=${tls.key}`,
  ];
  const admin = (...a: string[]) =>
    run('mariadb-admin', ['--no-defaults', `--socket=${m.socket}`, '-uroot', '--connect-timeout=2', ...a], { timeoutMs: 10_000 });
  return {
    name: 'mariadb',
    pidfile: m.pid,
    pattern: 'mariadbd',
    orphans: [`mariadbd --no-defaults --datadir=${m.data} `],
    ports: [stack.ports.mysql],
    log: logFile,
    configure(s) {
      mkdirSync(m.dir, { recursive: true });
      // a mariadbd started with other arguments (another port, a new certificate) is restarted
      if (put(m.args, `${args.join('\n')}\n`, 0o600)) s.changed.add('mariadb');
    },
    async start() {
      if (!existsSync(join(m.data, 'mysql'))) {
        rmSync(m.data, { recursive: true, force: true });
        const init = join(m.dir, 'data.init');
        rmSync(init, { recursive: true, force: true });
        const r = await run(
          'mariadb-install-db',
          ['--no-defaults', `--datadir=${init}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=socket'],
          { log: logFile },
        );
        if (r.code !== 0) throw new StackError(`mariadb-install-db failed (see ${logFile}):\n${tail(logFile)}`);
        renameSync(init, m.data);
      }
      spawnDetached(m.pid, logFile, which('mariadbd') ?? 'mariadbd', args);
    },
    ready: async () => (await admin('ping')).code === 0,
    readyTimeoutS: 60,
    async afterStart() {
      // mariadbd starts without TLS (a log line only) when it cannot load the certificate or the key
      const vars = await admin('variables');
      if (!/\|\s*have_ssl\s*\|\s*YES\s*\|/.test(vars.stdout))
        throw new StackError(`mariadb: TLS is not enabled (have_ssl is not YES; see ${logFile}):\n${tail(logFile)}`);
      // The password is ours (24 alphanumerics), quoted as a SQL literal all the same.
      const pw = secret(stack.paths.secrets, 'mysql').replaceAll("'", "''");
      let sql = '';
      for (const host of ['%', 'localhost', '127.0.0.1']) {
        sql += `CREATE USER IF NOT EXISTS 'plugin'@'${host}' IDENTIFIED BY '${pw}';ALTER USER 'plugin'@'${host}' IDENTIFIED BY '${pw}';`;
        sql += `GRANT ALL PRIVILEGES ON *.* TO 'plugin'@'${host}' WITH GRANT OPTION;`;
      }
      const r = await run('mariadb', ['--no-defaults', `--socket=${m.socket}`, '-uroot'], { input: `${sql}FLUSH PRIVILEGES;\n` });
      if (r.code !== 0) throw new StackError(`mariadb: creating user plugin failed: ${r.stderr.trim()}`);
    },
    detail: `127.0.0.1:${stack.ports.mysql}, TLS offered`,
  };
}
