import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { randomBytes } from 'node:crypto';
import { InputError, PluginError, TargetNoReturnError } from '../errors.js';
import { BoundedOutput } from './bounded-output.js';
import { fingerprintOf } from './host-key-policy.js';

const { Client } = ssh2;

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  password?: string | undefined;
  privateKey?: string | undefined;
}

export interface SshOpenOptions {
  /** Bound of TCP connect + handshake + authentication. */
  connectTimeoutMs: number;
  /** Decides on the server's host key fingerprint; throw (HostKeyError) to refuse. */
  verifyHostKey: (fingerprint: string) => Promise<void>;
  signal?: AbortSignal | undefined;
}

export interface ExecResult {
  /** Exit status; null when the command was killed by a signal or cut by our timeout. */
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Translates an ssh2 failure into our errors; the raw error (socket details, config) is dropped. */
function connectError(error: unknown, target: SshTarget, hostKeyError: unknown): PluginError {
  if (hostKeyError instanceof PluginError) return hostKeyError;
  if (error instanceof PluginError) return error;
  const e = (error ?? {}) as { level?: string; code?: string; message?: string };
  const where = `${target.host}:${target.port}`;
  if (e.level === 'client-authentication') {
    return new InputError(`SSH login as ${target.username} to ${where} was refused: wrong password or key, or the account may not log in`);
  }
  if (e.level === 'client-timeout' || /Timed out/i.test(e.message ?? '')) {
    return new TargetNoReturnError(`Cannot connect to target ${target.host}. SSH to ${where} timed out`, target.host);
  }
  const reason = e.code ?? (e.message ?? 'connection failed').slice(0, 200);
  return new TargetNoReturnError(`Cannot connect to target ${target.host}. SSH to ${where} failed: ${reason}`, target.host);
}

/**
 * One SSH connection (ssh2): host key checked before authentication, commands with their own timeout,
 * files uploaded over SFTP. Password and key are used for the login only and never logged.
 */
export class SshSession {
  private sftpChannel: Promise<SFTPWrapper> | undefined;

  private constructor(
    private readonly client: InstanceType<typeof Client>,
    readonly target: SshTarget,
  ) {}

  /** Connects and logs in; throws TargetNoReturnError, InputError (login refused) or HostKeyError. */
  static open(target: SshTarget, options: SshOpenOptions): Promise<SshSession> {
    const client = new Client();
    let hostKeyError: unknown;
    return new Promise<SshSession>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.end();
        reject(connectError({ level: 'client-timeout' }, target, hostKeyError));
      }, options.connectTimeoutMs + 1000);
      const onAbort = () => {
        client.end();
        reject(options.signal?.reason ?? new Error('aborted'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      client.on('ready', () => {
        done();
        resolve(new SshSession(client, target));
      });
      client.on('error', (error) => {
        done();
        client.end();
        reject(connectError(error, target, hostKeyError));
      });
      const config: ConnectConfig = {
        host: target.host,
        port: target.port,
        username: target.username,
        readyTimeout: options.connectTimeoutMs,
        ...(target.password !== undefined && { password: target.password }),
        ...(target.privateKey !== undefined && { privateKey: target.privateKey }),
        // keyboard-interactive with the password too: some servers offer only that for passwords
        tryKeyboard: target.password !== undefined,
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          options.verifyHostKey(fingerprintOf(key)).then(
            () => verify(true),
            (error: unknown) => {
              hostKeyError = error;
              verify(false);
            },
          );
        },
      };
      if (target.password !== undefined) {
        client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => target.password!)));
      }
      client.connect(config);
    });
  }

  /**
   * Runs a command line (a POSIX shell on the server parses it: quote every word with shellQuote).
   * `stdin`, when given, is written to the command's standard input, which is then closed.
   * After `timeoutMs` the channel is signalled and closed and `timedOut` is set.
   */
  exec(command: string, options: { timeoutMs: number; maxOutputChars: number; stdin?: string | undefined }): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(command, (error: Error | undefined, stream: ClientChannel) => {
        if (error) return reject(new TargetNoReturnError(`SSH exec on ${this.target.host} failed: ${error.message.slice(0, 200)}`, this.target.host));
        const stdout = new BoundedOutput(options.maxOutputChars);
        const stderr = new BoundedOutput(options.maxOutputChars);
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            stream.signal('KILL');
          } catch {
            // not every server honours signal requests; closing the channel is the fallback
          }
          stream.close();
        }, options.timeoutMs);
        stream.on('data', (d: Buffer) => stdout.push(d.toString('utf8')));
        stream.stderr.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
        // A secret for the remote program (sudo -S) goes on stdin, never on the command line.
        if (options.stdin !== undefined) stream.end(options.stdin);
        stream.on('close', (code: number | null, signal?: string) => {
          clearTimeout(timer);
          resolve({
            code: typeof code === 'number' ? code : null,
            signal: signal ?? undefined,
            stdout: stdout.toString().replace(/\n$/, ''),
            stderr: stderr.toString().replace(/\n$/, ''),
            timedOut,
          });
        });
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= new Promise((resolve, reject) =>
      this.client.sftp((error, sftp) =>
        error ? reject(new TargetNoReturnError(`SFTP to ${this.target.host} failed: ${error.message.slice(0, 200)}`, this.target.host)) : resolve(sftp),
      ),
    );
    return this.sftpChannel;
  }

  /**
   * Writes `content` to a new file in the login user's home directory (mode 0700, created exclusively,
   * random name) and returns its absolute path.
   */
  async upload(content: Buffer, suffix: string): Promise<string> {
    const sftp = await this.sftp();
    const home = await new Promise<string>((resolve, reject) => sftp.realpath('.', (e, p) => (e ? reject(e) : resolve(p))));
    const path = `${home.replace(/\/$/, '')}/.host-script-${randomBytes(8).toString('hex')}${suffix}`;
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(path, content, { mode: 0o700, flag: 'wx' }, (e) =>
        e ? reject(new TargetNoReturnError(`SFTP upload to ${this.target.host}:${path} failed: ${e.message.slice(0, 200)}`, this.target.host)) : resolve(),
      ),
    );
    return path;
  }

  /** Removes a file uploaded earlier; a failure is returned, not thrown (cleanup must not mask the result). */
  async remove(path: string): Promise<Error | undefined> {
    const sftp = await this.sftp();
    return new Promise((resolve) => sftp.unlink(path, (e) => resolve(e ?? undefined)));
  }

  close(): void {
    this.client.end();
  }
}
