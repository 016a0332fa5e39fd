import { z } from 'zod';
import { commonFields, requiredString, safeToken } from '../input/fields.js';
import { defineOperation } from '../wecube/operation.js';
import type { HostDeps } from './deps.js';
import { findFiles } from './host-file-find.js';

const input = z.object({
  ...commonFields,
  target: safeToken('target'),
  filePath: requiredString(),
  filePattern: requiredString(),
});

const output = z.object({ files: z.string().describe('matching paths joined with ",", "" when none') });

/** host-file/find: the WeCube adapter of findFiles. */
export const hostFileFind = (deps: HostDeps) =>
  defineOperation({
    plugin: 'host-file',
    action: 'find',
    summary: 'Find files on hosts by glob (filePath + filePattern); returns the paths joined with ","',
    input,
    output,
    // Items go to the core as they are: tsc checks the schema's output against FindRequest.
    run: (items, ctx) => findFiles(deps, items, ctx),
  });
