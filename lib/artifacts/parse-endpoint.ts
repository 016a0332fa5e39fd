import { InputError } from '../errors.js';

/** Where an object lives, and the URL the caller named it by (for messages). */
export interface ObjectRef {
  bucket: string;
  key: string;
  url: string;
}

export type EndpointStyle = 'path' | 'virtual' | 's3';

export interface ParsedEndpoint extends ObjectRef {
  style: EndpointStyle;
  /** `scheme://host[:port]` of an http(s) endpoint, '' for s3://. */
  origin: string;
  /** Virtual-hosted: the host after `<bucket>.` (e.g. `s3.ap-southeast-1.amazonaws.com`). */
  hostSuffix: string;
}

// <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>..., dualstack, .com.cn
const VIRTUAL_HOST = /^(.+?)\.(s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?)$/i;

const illegal = (url: string) => new InputError(`S3 url ${url} is illegal.`);

function decodeSegments(path: string, url: string): string[] {
  try {
    return path.split('/').map((segment) => decodeURIComponent(segment));
  } catch {
    throw illegal(url);
  }
}

/**
 * Parses a package endpoint: `http(s)://host[:port]/bucket/key` (path style, as WeCube and MinIO use),
 * `https://bucket.s3.<region>.amazonaws.com/key` (virtual-hosted) or `s3://bucket/key` (taken literally,
 * as the AWS CLI does). Percent-encoding is decoded, query and fragment dropped. Throws InputError
 * (`S3 url <url> is illegal.`) for anything else.
 */
export function parseEndpoint(text: string): ParsedEndpoint {
  const url = text.trim();
  if (/^s3:\/\//i.test(url)) {
    const rest = url.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? '' : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (!bucket || !key || key.endsWith('/')) throw illegal(url);
    return { bucket, key, url, style: 's3', origin: '', hostSuffix: '' };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw illegal(url);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname || parsed.username || parsed.password) {
    throw illegal(url);
  }
  const segments = decodeSegments(parsed.pathname.slice(1), url);
  const virtual = VIRTUAL_HOST.exec(parsed.hostname);
  let bucket: string;
  let key: string;
  if (virtual) {
    bucket = virtual[1]!.toLowerCase();
    key = segments.join('/');
  } else {
    bucket = segments[0] ?? '';
    key = segments.slice(1).join('/');
  }
  if (!bucket || !key || key.endsWith('/') || key.includes('\0')) throw illegal(url);
  return {
    bucket,
    key,
    url,
    style: virtual ? 'virtual' : 'path',
    origin: parsed.origin,
    hostSuffix: virtual ? virtual[2]! : '',
  };
}

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/** The URL of another object in the same style as `base` (same server, same scheme). */
export function endpointFor(base: ParsedEndpoint, location: { bucket: string; key: string }): string {
  switch (base.style) {
    case 's3':
      return `s3://${location.bucket}/${location.key}`;
    case 'virtual': {
      const u = new URL(base.origin);
      return `${u.protocol}//${location.bucket}.${base.hostSuffix}${u.port ? `:${u.port}` : ''}/${encodeKey(location.key)}`;
    }
    default:
      return `${base.origin}/${encodeURIComponent(location.bucket)}/${encodeKey(location.key)}`;
  }
}

/** The object's file name: the last segment of its key. */
export const baseName = (ref: { key: string }): string => ref.key.slice(ref.key.lastIndexOf('/') + 1);

/** The key's "directory", with its trailing `/` ('' at the bucket root). */
export const keyDir = (ref: { key: string }): string => ref.key.slice(0, ref.key.lastIndexOf('/') + 1);
