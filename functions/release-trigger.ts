import { releaseTrigger } from '../lib/releases/release-api.js';
import { builtOnFirstCall } from '../lib/runtime.js';

/** S3 ObjectCreated on `*.release.json`: starts the release the manifest describes (once per upload). */
export const handler = builtOnFirstCall((rt) => releaseTrigger(rt));
