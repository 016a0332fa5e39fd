import { releaseTasks } from '../lib/releases/release-tasks.js';
import { builtOnFirstCall } from '../lib/runtime.js';

/** A task of the release state machine (state-machines/release.asl.json). */
export const handler = builtOnFirstCall((rt) => releaseTasks(rt).releaseSlice);
