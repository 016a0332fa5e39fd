import { diskFormatAndMountDisk } from '../lib/disks/disk-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task, build } = serveOperation((rt) => diskFormatAndMountDisk(rt));
