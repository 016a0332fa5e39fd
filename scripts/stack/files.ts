/** Files of the local stack: written only when their content changes (a change restarts the service), secrets made once. */
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes content atomically with mode, unless the file already holds it; true when it was written. */
export function put(path: string, content: string, mode: number): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) {
    if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
    return false;
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
  return true;
}

/** (Re)creates a symlink only when it points elsewhere. */
export function symlink(target: string, link: string): void {
  try {
    if (readlinkSync(link) === target) return;
  } catch {
    // missing
  }
  rmSync(link, { force: true });
  symlinkSync(target, link);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The stored password `name` (24 alphanumerics), generated once, owner-only. */
export function secret(dir: string, name: string): string {
  const file = `${dir}/${name}`;
  if (!existsSync(file) || statSync(file).size === 0) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const value = Array.from({ length: 24 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    writeFileSync(`${file}.tmp`, `${value}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
  return readFileSync(file, 'utf8').split('\n')[0]!;
}
