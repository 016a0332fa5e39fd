/**
 * `serverless/functions.yml`, derived from the registry (lib/registry.ts): one function per entry, grouped
 * by domain; operations get their HTTP API routes (current path and aliases, API Gateway's 30 s) and
 * SALT_FUNCTION_CONCURRENCY as reserved concurrency when they call salt; the router gets the stack's one
 * Function URL (15 min), which serves every route, so no operation has a URL of its own.
 * Written by `npm run generate`; test/unit/registry.test.ts fails when the file differs.
 */
import {
  AWS_NEEDS,
  currentPath,
  functionFile,
  functionName,
  GROUPS,
  OPERATIONS,
  REGISTRY,
  type AwsNeed,
  type Group,
  type RegistryEntry,
} from '../../lib/registry.js';

/**
 * Reaches salt-api, a database or a host over SSH: runs in the stage's VPC when it gives one (null
 * otherwise: no VpcConfig). The others reach only AWS APIs (S3, Step Functions).
 */
export function inVpc(entry: RegistryEntry): boolean {
  switch (entry.kind) {
    case 'operation':
      return (
        entry.salt ||
        entry.group === 'databases' ||
        entry.group === 'agent' ||
        (entry.plugin === 'host-script' && entry.action === 'ssh-run') ||
        // release/start asks the master (accepted keys, target expressions) before it starts anything
        (entry.plugin === 'release' && entry.action === 'start')
      );
    case 'router':
    case 'release-task':
    // the trigger starts releases as release/start does (salt included)
    case 'release-trigger':
      return true;
    default:
      return false;
  }
}

/** What an entry's code calls on AWS, in AWS_NEEDS order; the router serves every operation in-process: the union of theirs. */
export function needsOf(entry: RegistryEntry): AwsNeed[] {
  const given = new Set(entry.kind === 'router' ? OPERATIONS.flatMap((op) => op.aws) : entry.aws);
  return (Object.keys(AWS_NEEDS) as AwsNeed[]).filter((need) => given.has(need));
}

/**
 * The logical id of an entry's role: one role per set of needs and VPC placement (ENIs are granted only to
 * roles of functions in the VPC), e.g. `IamRoleLambdaS3ReadS3WriteVpc`; `IamRoleLambdaBase` needs nothing.
 */
export function roleOf(entry: RegistryEntry): string {
  const parts = needsOf(entry).map((need) => need.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase()));
  return `IamRoleLambda${parts.join('') || 'Base'}${inVpc(entry) ? 'Vpc' : ''}`;
}

function declaration(entry: RegistryEntry): string[] {
  const lines = [`${functionName(entry)}:`, `  handler: functions/${functionFile(entry)}.handler`];
  if (inVpc(entry)) lines.push('  vpc: ${self:custom.vpc, null}');
  if (entry.kind === 'router') lines.push("  # its role: the union of every operation's (it serves them all in-process)");
  // serverless/plugins/lambda-roles.cjs creates it from serverless/roles.yml
  lines.push(`  role: ${roleOf(entry)}`);
  switch (entry.kind) {
    case 'operation':
      if (entry.salt) lines.push('  reservedConcurrency: ${self:custom.saltFunctionConcurrency, null}');
      lines.push('  events:', ...[currentPath(entry), ...entry.aliases].map((path) => `    - httpApi: { method: POST, path: ${path} }`));
      break;
    case 'router':
      lines.push(
        // Lambda's maximum: the reason the router exists (API Gateway cuts at 30 s).
        '  timeout: 900',
        // It runs salt-calling operations too: bounded like them.
        '  reservedConcurrency: ${self:custom.saltFunctionConcurrency, null}',
        // AWS_IAM unless `--param routerUrlAuth=NONE` (serverless/deploy-params.cjs); the JWT is checked either way.
        '  url: ${self:custom.deployParams.routerUrl}',
      );
      break;
    case 'openapi':
      lines.push('  timeout: 10', '  events:', '    - httpApi: { method: GET, path: /saltstack/v1/openapi.json }');
      break;
    case 'release-trigger':
      lines.push(
        '  events:',
        '    - s3:',
        // provider.s3.artifacts (created with the stack) or the existing bucket given by parameter
        '        bucket: ${self:custom.artifactBucketEvent.bucket}',
        '        event: s3:ObjectCreated:*',
        '        rules:',
        '          - prefix: ${self:custom.releaseManifestPrefix}',
        '          - suffix: .release.json',
        '        existing: ${self:custom.artifactBucketEvent.existing}',
        // S3 invokes it asynchronously: an event that still fails after Lambda's two retries is kept there.
        '  destinations:',
        '    onFailure:',
        '      type: sqs',
        "      arn: { 'Fn::GetAtt': [ReleaseTriggerFailures, Arn] }",
      );
      break;
    case 'release-task':
      break;
  }
  return lines;
}

/**
 * The text of serverless/roles.yml: every role's needs (the statements serverless.yml's custom.lambdaIam
 * gives each need) and the functions that have it, which serverless/plugins/lambda-roles.cjs turns into roles.
 */
export function serverlessRoles(): string {
  const roles = new Map<string, RegistryEntry[]>();
  for (const entry of REGISTRY) roles.set(roleOf(entry), [...(roles.get(roleOf(entry)) ?? []), entry]);
  const lines = [
    "# GENERATED by `npm run generate` from lib/registry.ts (each entry's `aws` needs): edit the registry, not this file.",
    '# One IAM role per set of needs and VPC placement; serverless/plugins/lambda-roles.cjs builds each from the',
    "# statements of its needs (serverless.yml, custom.lambdaIam), its functions' log groups, X-Ray, and ENIs when in a VPC.",
  ];
  for (const [role, entries] of [...roles].sort(([a], [b]) => a.localeCompare(b))) {
    const needs = needsOf(entries[0]!);
    lines.push(`${role}:`, `  needs: [${needs.join(', ')}]`, `  functions: [${entries.map(functionName).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

/** Wraps a comment at 110 columns. */
function comment(text: string): string[] {
  const out: string[] = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > 110) {
      out.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  return [...out, line];
}

/** The text of serverless/functions.yml. */
export function serverlessFunctions(): string {
  const lines = [
    '# GENERATED by `npm run generate` from lib/registry.ts: edit the registry, not this file.',
    '# Every operation has its HTTP API routes (API Gateway: 30 s); the router has the one Function URL (15 min),',
    '# which serves every route: the base URL of callers whose calls may outlast 30 s (WeCube).',
  ];
  for (const group of Object.keys(GROUPS) as Group[]) {
    lines.push('', ...comment(GROUPS[group]));
    for (const entry of REGISTRY.filter((e) => e.group === group)) lines.push(...declaration(entry));
  }
  return lines.join('\n') + '\n';
}
