import { z } from 'zod';
import { commonFields, requiredString, safeToken } from '../input/fields.js';
import { defineOperation, type RunContext } from '../wecube/operation.js';
import type { HostDeps } from './deps.js';
import { copyFiles } from './host-file-copy.js';
import { flagField, hostPathField, ownerField } from './path-fields.js';

const input = z.object({
  ...commonFields,
  endpoint: requiredString(),
  target: safeToken('target'),
  destinationPath: hostPathField(),
  unpack: flagField(),
  fileOwner: ownerField(),
});

const output = z.object({ detail: z.string().describe('{"return": [{"<target>": "<md5 of the file>"}]}, as upstream') });

/** host-file/copy: the WeCube adapter of copyFiles. */
export const hostFileCopy = (deps: HostDeps) =>
  defineOperation({
    plugin: 'host-file',
    action: 'copy',
    summary: 'Copy an S3 object to hosts (sha256-verified), optionally unpack zip/tar/tar.gz/tgz and chown to fileOwner',
    input,
    output,
    // Items go to the core as they are: tsc checks the schema's output against CopyRequest.
    run: (items, ctx: RunContext) => copyFiles(deps, items, ctx),
  });
