/** s3rver, started by scripts/stack/s3-server.cjs, which also POSTs its events to the URLs in s3-hooks/*.url. */
import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { HERE, ROOT, StackError } from '../context.js';
import { spawnDetached } from '../proc.js';
import type { Service, Stack } from '../supervisor.js';

const LAUNCHER = join(HERE, 's3-server.cjs');

/** True when the S3 server answers HTTP at all (any status). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/artifacts?max-keys=1', timeout: 5_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function s3(stack: Stack): Service {
  const { s3: p, log } = stack.paths;
  const port = stack.ports.s3;
  return {
    name: 's3',
    pidfile: p.pid,
    pattern: 's3-server.cjs',
    // s3rver.js: the s3rver CLI an earlier stack script ran
    orphans: [`s3-server.cjs --directory ${p.data} `, `s3rver.js -d ${p.data} `],
    ports: [port],
    log: join(log, 's3.log'),
    configure: () => void mkdirSync(p.hooks, { recursive: true }),
    async start() {
      if (!existsSync(join(ROOT, 'node_modules', 's3rver', 'package.json'))) throw new StackError(`s3rver is not installed: run npm ci in ${ROOT} first`);
      mkdirSync(p.data, { recursive: true });
      spawnDetached(p.pid, join(log, 's3.log'), process.execPath, [
        LAUNCHER,
        '--directory',
        p.data,
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--bucket',
        'artifacts',
        '--hooks',
        p.hooks,
      ]);
    },
    ready: () => answers(port),
    readyTimeoutS: 30,
    detail: `http://127.0.0.1:${port}, hooks ${p.hooks}/*.url`,
  };
}
