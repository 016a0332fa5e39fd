/** salt-api (rest_cherrypy over TLS with the stack's certificate), eauth `file` user saltapi. */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { secret } from '../files.js';
import { runDaemonising } from '../proc.js';
import type { Service, Stack } from '../supervisor.js';
import { configureSalt } from './salt-master.js';

export const apiUrl = (stack: Stack) => `https://127.0.0.1:${stack.ports.saltApi}`;

/** One HTTPS call to salt-api (the stack CA checked); undefined when it does not answer. */
export function apiCall(stack: Stack, path: string, body?: unknown, timeoutMs = 5_000): Promise<{ status: number; text: string } | undefined> {
  let ca: Buffer;
  try {
    ca = readFileSync(stack.paths.tls.ca);
  } catch {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${apiUrl(stack)}${path}`,
      {
        method: data ? 'POST' : 'GET',
        ca,
        timeout: timeoutMs,
        headers: { Accept: 'application/json', ...(data && { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(data);
  });
}

/** The minions of `ids` that do not answer test.ping through salt-api. */
export async function notAnswering(stack: Stack, ids: string[]): Promise<{ missing: string[]; reply: string }> {
  const reply = await apiCall(
    stack,
    '/run',
    [
      {
        client: 'local',
        tgt: ids,
        tgt_type: 'list',
        fun: 'test.ping',
        timeout: 3,
        gather_job_timeout: 2,
        username: 'saltapi',
        password: secret(stack.paths.secrets, 'salt-api'),
        eauth: 'file',
      },
    ],
    20_000,
  );
  let ret: Record<string, unknown> = {};
  try {
    ret = (JSON.parse(reply?.text ?? '') as { return: Array<Record<string, unknown>> }).return[0] ?? {};
  } catch {
    // not JSON: nobody answered
  }
  return { missing: ids.filter((id) => ret[id] !== true), reply: reply?.text ?? 'no answer' };
}

export function saltApi(stack: Stack): Service {
  const { salt, venv, log } = stack.paths;
  const logFile = join(log, 'salt-api.log');
  return {
    name: 'salt-api',
    pidfile: salt.apiPid,
    pattern: 'salt-api',
    orphans: [`bin/salt-api -c ${salt.etc} -d`],
    ports: [stack.ports.saltApi],
    log: logFile,
    configure: configureSalt,
    start: () => runDaemonising('salt-api', join(venv, 'bin', 'salt-api'), ['-c', salt.etc, '-d'], logFile),
    ready: async () => (await apiCall(stack, '/'))?.status === 200,
    readyTimeoutS: 60,
    detail: apiUrl(stack),
  };
}
