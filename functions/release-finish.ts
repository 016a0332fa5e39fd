import { releaseTasks } from '../lib/releases/release-tasks.js';
import { getRuntime } from '../lib/runtime.js';

/** A task of the release state machine (state-machines/release.asl.json). */
export const handler = releaseTasks(getRuntime()).releaseFinish;
