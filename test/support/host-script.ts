/** Helpers of the host-script integration tests: scratch dirs, throwaway users, S3 scripts, canaries. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Runtime } from '../../lib/runtime.js';
import { stackConfig } from './stack.js';

export const rand = () => randomBytes(4).toString('hex');

/** A directory every user can read and enter (scripts run as a throwaway user live here). */
export function scratchDir(name: string): string {
  const dir = `/tmp/${name}-${rand()}`;
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

export function writeScript(path: string, body: string, mode = 0o755): string {
  writeFileSync(path, body);
  chmodSync(path, mode);
  return path;
}

/** Creates a local user (with a home and, optionally, a password); returns its uid. */
export function addUser(name: string, password?: string): number {
  execFileSync('useradd', ['-m', '-s', '/bin/sh', name]);
  if (password) execFileSync('chpasswd', [], { input: `${name}:${password}\n` });
  return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
}

export function removeUser(name: string): void {
  try {
    execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

export const userExists = (name: string): boolean => {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** A path an injected `touch` would create; the tests assert it never appears. */
export function canary(): { path: string; exists: () => boolean; cleanup: () => void } {
  const path = `/tmp/canary-${rand()}`;
  return { path, exists: () => existsSync(path), cleanup: () => rmSync(path, { force: true }) };
}

/** Puts a script into the stack's artifacts bucket; returns its path-style URL. */
export async function putScript(rt: Runtime, key: string, body: string): Promise<string> {
  const { s3 } = stackConfig();
  await rt.store().put({ bucket: 'artifacts', key, url: key }, Readable.from([Buffer.from(body)]));
  return `${s3.endpoint}/artifacts/${key}`;
}

export async function removeObject(rt: Runtime, key: string): Promise<void> {
  await rt
    .store()
    .remove({ bucket: 'artifacts', key, url: key })
    .catch(() => undefined);
}
