/**
 * Header checks of the `npm start` server, which runs root scripts on this machine's minions with
 * AUTH_MODE=off: a web page the developer visits must not be able to drive it. A browser can POST
 * cross-site without a preflight only with a CORS-safelisted Content-Type (text/plain, form encodings), so
 * JSON is required; it says where a request comes from in `Origin` and `Sec-Fetch-Site`, so those are
 * refused unless allowed; and a DNS-rebound page reaches 127.0.0.1 with its own name in `Host`, so Host
 * must name this server. The deployed Lambdas sit behind API Gateway and JWT auth and do not use this.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from '../../lib/errors.js';

/** What the server accepts besides loopback requests from non-browser clients. */
export interface LocalRequestPolicy {
  /** The port the server listens on: the default Host names carry it. */
  port: number;
  /** Exact browser origins (`scheme://host[:port]`) allowed to call, e.g. a local console page. */
  allowedOrigins: readonly string[];
  /** Extra Host header values (`name` or `name:port`), for a name that points at this machine. */
  allowedHosts: readonly string[];
}

/** A refused request: the HTTP status and the resultMessage of the envelope. */
export interface Refusal {
  status: 403 | 415 | 421;
  message: string;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const HOST_ENTRY = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:(\d{1,5}))?$/i;

// Header values are echoed back in the refusal; keep the echo short.
const shown = (value: string) => JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);

/** Parses LOCAL_ALLOWED_ORIGINS (comma-separated origins); throws ConfigError naming the variable and entry. */
export function parseAllowedOrigins(text: string | undefined, variable = 'LOCAL_ALLOWED_ORIGINS'): string[] {
  return splitList(text).map((entry) => {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(`${variable}: ${shown(entry)} is not an origin (scheme://host[:port])`);
    }
    const bare = entry.replace(/\/$/, '').toLowerCase();
    if (!/^https?:$/.test(url.protocol) || url.origin !== bare || !/^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(url.hostname)) {
      throw new ConfigError(`${variable}: ${shown(entry)} is not an http(s) origin (scheme://host[:port], no path, no wildcard)`);
    }
    return url.origin;
  });
}

/** Parses LOCAL_ALLOWED_HOSTS (comma-separated `name` or `name:port`); throws ConfigError naming the variable. */
export function parseAllowedHosts(text: string | undefined, variable = 'LOCAL_ALLOWED_HOSTS'): string[] {
  return splitList(text).map((entry) => {
    const match = HOST_ENTRY.exec(entry);
    if (!match || (match[4] !== undefined && Number(match[4]) > 65535)) {
      throw new ConfigError(`${variable}: ${shown(entry)} is not a host name or name:port`);
    }
    return entry.toLowerCase();
  });
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The Host values this server answers to: loopback names and the allowed hosts, with the port. */
export function acceptedHosts(policy: Pick<LocalRequestPolicy, 'port' | 'allowedHosts'>): Set<string> {
  const hosts = new Set<string>();
  for (const name of [...LOOPBACK_NAMES, ...policy.allowedHosts]) {
    const hasPort = HOST_ENTRY.exec(name)?.[4] !== undefined;
    hosts.add(hasPort ? name : `${name}:${policy.port}`);
    // HTTP clients leave the port out of Host when it is the scheme's default.
    if (!hasPort && policy.port === 80) hosts.add(name);
  }
  return hosts;
}

/** Refuses a Host header that does not name this server (DNS rebinding). */
export function checkHost(host: string | undefined, accepted: ReadonlySet<string>): Refusal | undefined {
  if (host !== undefined && accepted.has(host.trim().toLowerCase())) return undefined;
  const expected = [...accepted].join(', ');
  return {
    status: 421,
    message:
      host === undefined
        ? `Host header missing: this local server answers only to ${expected}`
        : `Host ${shown(host)} is not this local server (it answers to ${expected}; add a name to LOCAL_ALLOWED_HOSTS)`,
  };
}

/** Refuses a browser request from another site: an Origin not allowed, or Sec-Fetch-Site cross-site/same-site. */
export function checkOrigin(headers: IncomingHttpHeaders, allowedOrigins: readonly string[]): Refusal | undefined {
  const origin = single(headers['origin']);
  if (origin !== undefined) {
    if (allowedOrigins.includes(origin.trim())) return undefined;
    return {
      status: 403,
      message: `Origin ${shown(origin)} is not allowed: the local server refuses requests from web pages (allow an origin with LOCAL_ALLOWED_ORIGINS)`,
    };
  }
  // Browsers send Origin on every cross-origin POST; this catches one that does not but says where it came
  // from. same-site counts too: another port of localhost is the same site.
  const site = single(headers['sec-fetch-site'])?.trim().toLowerCase();
  if (site === 'cross-site' || site === 'same-site') {
    return { status: 403, message: `Sec-Fetch-Site: ${site} request refused: the local server refuses requests from web pages` };
  }
  return undefined;
}

/** Refuses a POST whose body is not declared as JSON (`application/json`, optionally with charset=utf-8). */
export function checkContentType(method: string | undefined, contentType: string | undefined): Refusal | undefined {
  if (method !== 'POST') return undefined;
  const [essence = '', ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const refusal = (why: string): Refusal => ({
    status: 415,
    message: `${why}: POST bodies must be sent with Content-Type: application/json (curl: -H 'Content-Type: application/json')`,
  });
  if (contentType === undefined || essence === '') return refusal('Content-Type missing');
  if (essence !== 'application/json') return refusal(`Content-Type ${shown(essence)} refused`);
  for (const param of params.filter(Boolean)) {
    const [name, value = ''] = param.split('=').map((s) => s.trim());
    // The body is decoded as UTF-8 (JSON's only interchange encoding, RFC 8259 §8.1).
    if (name === 'charset' && !/^"?utf-?8"?$/.test(value)) return refusal(`charset ${shown(value)} refused (UTF-8 only)`);
  }
  return undefined;
}

/** Runs every header check in order (Host, Origin, Content-Type); the first refusal wins. */
export function guardLocalRequest(
  request: { method?: string | undefined; headers: IncomingHttpHeaders },
  policy: { acceptedHosts: ReadonlySet<string>; allowedOrigins: readonly string[] },
): Refusal | undefined {
  return (
    checkHost(request.headers.host, policy.acceptedHosts) ??
    checkOrigin(request.headers, policy.allowedOrigins) ??
    checkContentType(request.method, single(request.headers['content-type']))
  );
}
