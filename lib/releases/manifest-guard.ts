import { parseEndpoint } from '../artifacts/parse-endpoint.js';
import { InputError } from '../errors.js';

/** The suffix of release manifests (the S3 notification filters on it too). */
export const MANIFEST_SUFFIX = '.release.json';

/** Who may start releases by writing manifests: where they must be, whose uploads count. */
export interface ManifestPolicy {
  /** The artifact bucket; manifests in any other bucket are not ours (undefined: any bucket). */
  bucket: string | undefined;
  /** Key prefix ending in `/`. */
  prefix: string;
  /** Allowed principalIds: exact, `*` for anyone, or an entry ending in `*` for a prefix (a role's sessions). */
  uploaders: readonly string[];
}

/**
 * Whether an object is a manifest this deployment takes: in the artifact bucket, under the manifest
 * prefix, named `*.release.json`. Anything else is not a release request and gets no answer at all (the
 * local S3 server, and a misconfigured notification, deliver every event).
 */
export function isManifest(policy: ManifestPolicy, bucket: string, key: string): boolean {
  if (policy.bucket !== undefined && bucket !== policy.bucket) return false;
  if (hasDotSegment(key)) return false;
  return key.startsWith(policy.prefix) && key.endsWith(MANIFEST_SUFFIX) && key.length >= policy.prefix.length + MANIFEST_SUFFIX.length;
}

// S3 keys are literal, but a path-style URL `/<bucket>/../<other>/<key>` is resolved by servers and HTTP
// clients (s3rver answers it from <other>): a key with `.`/`..` segments can name another bucket.
const hasDotSegment = (key: string) => key.split('/').some((segment) => segment === '.' || segment === '..');

const allows = (entry: string, principal: string) =>
  entry === '*' || entry === principal || (entry.length > 1 && entry.endsWith('*') && principal.startsWith(entry.slice(0, -1)));

/**
 * Why the uploader of a manifest may not start a release (undefined when it may): the event's
 * `userIdentity.principalId` must be on RELEASE_UPLOADERS; an empty list refuses every upload.
 */
export function uploaderRefusal(policy: ManifestPolicy, principal: string | undefined): string | undefined {
  if (!policy.uploaders.length) {
    return 'releases from S3 manifests are off: RELEASE_UPLOADERS names no uploader (set it to the principalIds that may release)';
  }
  const who = principal?.trim() ?? '';
  if (!who) return 'the upload event names no uploader (userIdentity.principalId); only RELEASE_UPLOADERS may release';
  if (policy.uploaders.some((entry) => allows(entry, who))) return undefined;
  return `uploader ${JSON.stringify(who.slice(0, 200))} is not in RELEASE_UPLOADERS`;
}

/**
 * Checks that every S3 object a manifest names is in the manifest's own bucket (a writer of one prefix
 * must not make hosts install another bucket's objects); throws InputError naming the field.
 */
export function checkManifestBuckets(bucket: string, request: { endpoint?: string | undefined; packageKey?: string | undefined }): void {
  const endpoint = request.endpoint?.trim();
  if (!endpoint) {
    // packageKey: in the manifest's bucket, unless its dot segments walk out of it
    if (hasDotSegment(request.packageKey?.trim() ?? '')) throw new InputError('Parameter packageKey validation failed: `.` and `..` segments are refused');
    return;
  }
  const ref = parseEndpoint(endpoint);
  if (ref.bucket !== bucket) {
    throw new InputError(`Parameter endpoint validation failed: a manifest in bucket ${bucket} may only name packages in that bucket, not in ${ref.bucket}`);
  }
  if (hasDotSegment(ref.key)) throw new InputError('Parameter endpoint validation failed: `.` and `..` segments in the key are refused');
}
