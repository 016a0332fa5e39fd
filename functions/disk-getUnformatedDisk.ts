import { diskGetUnformatedDisk } from '../lib/disks/disk-operations.js';
import { serveOperation } from '../lib/wecube/serve-operation.js';

export const { operation, handler, task } = serveOperation((rt) => diskGetUnformatedDisk(rt));
