/**
 * A real local HTTP(S) server that imitates salt-api (rest_cherrypy) closely enough for the client:
 * POST /login, POST / (lowstate), GET /jobs/<jid>, with CherryPy's HTML error pages. No mocking: the
 * client under test talks to it over TCP on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadSample } from '../helpers.js';

export interface Reply {
  status?: number;
  /** JSON body (default) or raw text when `contentType` is not JSON. */
  body?: unknown;
  contentType?: string;
}
/** A handler may answer, or return 'hang' to never answer (a stopped master makes salt-api do that). */
export type Handler<A> = (arg: A, request: IncomingMessage) => Reply | 'hang' | Promise<Reply | 'hang'>;

export interface Received {
  method: string;
  path: string;
  token: string | undefined;
  body: unknown;
}

const cherryPyPage = (sample: string) => String(loadSample(sample).response.body);

export class FakeSaltApi {
  readonly user = 'saltapi';
  readonly password: string;
  /** Every request the server got, in order. */
  readonly received: Received[] = [];
  /** Tokens handed out by /login, in order. */
  readonly issued: string[] = [];
  readonly valid = new Set<string>();
  /** Seconds since epoch at which a token handed out now expires. */
  expire: () => number = () => Date.now() / 1000 + 12 * 3600;
  loginDelayMs = 0;
  loginHandler: Handler<unknown> | undefined;
  /** How many of the next POST / requests get a 401 whatever their token. */
  reject401 = 0;
  root: Handler<unknown[]> = (chunks) => ({ body: { return: chunks.map(() => ({})) } });
  jobs: Handler<string> = (jid) => ({ body: { info: [{ jid, Minions: [], Result: {} }], return: [{}] } });

  private server: http.Server | https.Server | undefined;
  url = '';

  constructor(password = 'Sup3r-Secret-Salt-Pw!') {
    this.password = password;
  }

  count(method: string, pathPrefix: string): number {
    return this.received.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }
  get logins(): number {
    return this.count('POST', '/login');
  }
  get lowstateCalls(): Received[] {
    return this.received.filter((r) => r.method === 'POST' && r.path === '/');
  }

  async start(tls?: { key: string; cert: string }): Promise<this> {
    const listener = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the raw text
    }
    const header = req.headers['x-auth-token'];
    const token = Array.isArray(header) ? header[0] : header;
    const path = (req.url ?? '/').split('?')[0]!;
    this.received.push({ method: req.method ?? '', path, token, body });

    if (req.method === 'POST' && path === '/login') return this.login(body, req, res);
    if (!token || !this.valid.has(token)) return this.send(res, { status: 401, body: cherryPyPage('016'), contentType: 'text/html;charset=utf-8' });
    if (req.method === 'POST' && path === '/') {
      if (this.reject401 > 0) {
        this.reject401--;
        return this.send(res, { status: 401, body: cherryPyPage('016'), contentType: 'text/html;charset=utf-8' });
      }
      return this.send(res, await this.root(body as unknown[], req));
    }
    const job = /^\/jobs\/(\d+)$/.exec(path);
    if (req.method === 'GET' && job) return this.send(res, await this.jobs(job[1]!, req));
    return this.send(res, { status: 404, body: '<p>Nothing matches the given URI</p>', contentType: 'text/html' });
  }

  private async login(body: unknown, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.loginDelayMs) await new Promise((r) => setTimeout(r, this.loginDelayMs));
    if (this.loginHandler) return this.send(res, await this.loginHandler(body, req));
    const { username, password, eauth } = (body ?? {}) as Record<string, unknown>;
    if (username !== this.user || password !== this.password || eauth !== 'pam') {
      return this.send(res, { status: 401, body: cherryPyPage('003'), contentType: 'text/html;charset=utf-8' });
    }
    const token = randomBytes(20).toString('hex');
    this.issued.push(token);
    this.valid.add(token);
    const start = Date.now() / 1000;
    this.send(res, { body: { return: [{ token, expire: this.expire(), start, user: username, eauth, perms: ['.*', '@jobs', '@runner', '@wheel'] }] } });
  }

  private send(res: ServerResponse, reply: Reply | 'hang'): void {
    if (reply === 'hang') return;
    const contentType = reply.contentType ?? 'application/json';
    const payload = /json/.test(contentType) && typeof reply.body !== 'string' ? JSON.stringify(reply.body ?? {}) : String(reply.body ?? '');
    res.writeHead(reply.status ?? 200, { 'content-type': contentType });
    res.end(payload);
  }
}
