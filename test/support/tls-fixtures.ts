/**
 * TLS fixtures of the database TLS tests: CAs and server certificates made by the local openssl in a temp
 * dir, a TCP forwarder (to reach a stack server by an address its certificate does not name), and fake
 * MySQL and Redis servers that record what a client sent them after the TLS handshake, so a test can
 * tell whether the credentials left the client.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export interface TestCa {
  caFile: string;
  keyFile: string;
}

/** A fresh self-signed CA in `dir` (`<name>-ca.pem`, `<name>-ca-key.pem`). */
export function makeCa(dir: string, name: string): TestCa {
  const caFile = join(dir, `${name}-ca.pem`);
  const keyFile = join(dir, `${name}-ca-key.pem`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    keyFile,
    '-out',
    caFile,
  ]);
  return { caFile, keyFile };
}

/** A server certificate signed by `ca` naming exactly `subjectAltName` (e.g. `DNS:localhost`): PEM key and cert. */
export function makeServerCert(dir: string, ca: TestCa, name: string, subjectAltName: string): { key: string; cert: string } {
  const keyFile = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, [`subjectAltName=${subjectAltName}`, 'basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csr]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.caFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    '0x' + Date.now().toString(16),
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

const listen = async (server: Server, host: string): Promise<number> => {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
};

const closeServer = (server: Server, sockets: Set<Socket>) =>
  new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });

export interface Forwarder {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on `host` (e.g. 127.0.0.2) and forwards every connection, byte for byte, to `target`. */
export async function forwarder(host: string, target: { host: string; port: number }): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const port = await listen(server, host);
  return { host, port, close: () => closeServer(server, sockets) };
}

/** What a fake server saw: connections, and every byte a client sent after the TLS handshake (decrypted). */
export interface FakeServer {
  port: number;
  connections: number;
  /** Bytes received inside TLS, i.e. what the client sent once it had accepted the certificate. */
  secured: Buffer[];
  /** Bytes received in clear (for MySQL: the handshake response or SSLRequest). */
  plain: Buffer[];
  close(): Promise<void>;
}

const u16 = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff]);
const packet = (seq: number, payload: Buffer) =>
  Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, seq]), payload]);

// Capabilities: LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41, SSL, TRANSACTIONS, SECURE_CONNECTION | PLUGIN_AUTH.
const CAPS_LOW = 0x0001 | 0x0008 | 0x0200 | 0x0800 | 0x2000 | 0x8000;
const CAPS_HIGH = 0x0008;

/** MySQL's initial handshake (protocol 10) offering TLS and mysql_native_password. */
function mysqlGreeting(): Buffer {
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('5.7.99-fake\0'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from('abcdefgh'),
    Buffer.from([0]),
    u16(CAPS_LOW),
    Buffer.from([0x21]),
    u16(0x0002),
    u16(CAPS_HIGH),
    Buffer.from([21]),
    Buffer.alloc(10),
    Buffer.from('ijklmnopqrst\0'),
    Buffer.from('mysql_native_password\0'),
  ]);
  return packet(0, payload);
}

/** An ERR packet (1045 access denied) so that a client that did log in stops at once. */
const mysqlDenied = (seq: number) => packet(seq, Buffer.concat([Buffer.from([0xff]), u16(1045), Buffer.from('#28000fake server: access denied')]));

/**
 * A fake MySQL server on 127.0.0.1 that offers TLS with `key`/`cert`: it upgrades on the client's
 * SSLRequest, records what arrives inside TLS (the login packet, with the user name in it) and answers
 * it with access denied.
 */
export async function fakeMysqlServer(identity: { key: string; cert: string }): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const fake: Omit<FakeServer, 'close'> = { port: 0, connections: 0, secured: [], plain: [] };
  const server = createServer((socket) => {
    fake.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let transport: Duplex | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (transport) {
        transport.push(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 4) return;
      const length = pending[0]! | (pending[1]! << 8) | (pending[2]! << 16);
      if (pending.length < 4 + length) return;
      const first = pending.subarray(0, 4 + length);
      const rest = pending.subarray(4 + length);
      fake.plain.push(Buffer.from(first));
      const clientCaps = first.readUInt32LE(4);
      if (!(clientCaps & 0x0800)) {
        // A plain login: the password hash travelled in clear.
        socket.end(mysqlDenied(2));
        return;
      }
      // A JS stream under the TLS socket, so that bytes already read (the ClientHello) are not lost.
      transport = new Duplex({
        read() {},
        write(data: Buffer, _encoding, done) {
          socket.write(data, () => done());
        },
        final(done) {
          socket.end();
          done();
        },
      });
      socket.on('end', () => transport?.push(null));
      const secure = new TLSSocket(transport, { isServer: true, key: identity.key, cert: identity.cert });
      secure.on('error', () => socket.destroy());
      secure.on('data', (data: Buffer) => {
        fake.secured.push(Buffer.from(data));
        secure.end(mysqlDenied(3));
      });
      if (rest.length > 0) transport.push(rest);
    });
    socket.write(mysqlGreeting());
  });
  fake.port = await listen(server, '127.0.0.1');
  return Object.assign(fake, { close: () => closeServer(server, sockets) });
}

/** A fake Redis TLS port on 127.0.0.1: records what arrives inside TLS (AUTH/HELLO, with the password) and answers WRONGPASS. */
export async function fakeRedisTlsServer(identity: { key: string; cert: string }): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const fake: Omit<FakeServer, 'close'> = { port: 0, connections: 0, secured: [], plain: [] };
  const server = createTlsServer({ key: identity.key, cert: identity.cert }, (secure) => {
    secure.on('error', () => undefined);
    secure.on('data', (data: Buffer) => {
      fake.secured.push(Buffer.from(data));
      secure.end('-WRONGPASS fake server\r\n');
    });
  });
  server.on('connection', (socket: Socket) => {
    fake.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  fake.port = await listen(server, '127.0.0.1');
  return Object.assign(fake, { close: () => closeServer(server, sockets) });
}
