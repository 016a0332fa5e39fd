import { z } from 'zod';
import { commonFields, looseString, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import { replacePackageVariables, type PackageVariableDeps } from './package-variable-replace.js';

const unresolvedVariable = z.object({ file: z.string(), line: z.string(), key: z.string(), type: z.string() });

/** package-variable/replace (and the old `/v1/deploy/variable/replace`): the WeCube adapter of replacePackageVariables. */
export const packageVariableReplace = (deps: PackageVariableDeps) =>
  defineOperation({
    plugin: 'package-variable',
    action: 'replace',
    summary:
      'Substitute [<prefix><name>] placeholders in the confFiles of a zip/tar/tgz package in S3, re-pack it and upload it as <md5>_<name>_<timestamp>_<rand4><ext>',
    input: z.object({
      ...commonFields,
      endpoint: requiredString(),
      confFiles: looseString().describe('paths inside the package, separated by , or |; a leading / is the package root'),
      variableList: looseString().describe('legacy \\x01 form, JSON [{"key","value"}], or name=value, name2="v, 2"'),
      seed: looseString(),
      appPublicKey: looseString(),
      sysPrivateKey: looseString(),
      fileReplacePrefix: looseString().describe('accepted and ignored, as upstream (prefixes come from config)'),
      variableNullCheck: looseString().describe('Y: an unresolved placeholder fails the item (also VARIABLE_NULL_CHECK)'),
    }),
    output: z.object({ s3PkgPath: z.string(), unresolvedVariables: z.array(unresolvedVariable) }),
    // Items go to the core as they are: tsc checks the schema's output against ReplaceRequest.
    run: eachItem((item, ctx) => replacePackageVariables(item, deps, ctx)),
  });
