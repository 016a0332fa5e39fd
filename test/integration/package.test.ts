import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { currentPath, OPERATIONS } from '../../lib/registry.js';
import { FUNCTION_LOADERS } from '../../lib/router/function-loaders.js';
import { lazyRouteTable } from '../../lib/router/lazy-route-table.js';
import { resolveRoute } from '../../lib/wecube/routes.js';
import { projectRoot } from '../support/stack.js';

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  Outputs: Record<string, { Value: unknown }>;
}

/** Uncompressed size of every entry of a zip. */
function codeSizes(zip: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    yauzl.open(zip, { lazyEntries: false, autoClose: true }, (error, file) => {
      if (error || !file) return reject(error);
      const sizes = new Map<string, number>();
      file.on('entry', (entry: yauzl.Entry) => sizes.set(entry.fileName, entry.uncompressedSize));
      file.on('end', () => resolve(sizes));
      file.on('error', reject);
    });
  });
}

/** Extracts a function zip's bundle (functions/*.mjs) into `dir`; returns its path. */
function extractBundle(zip: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    yauzl.open(zip, { lazyEntries: true, autoClose: true }, (error, file) => {
      if (error || !file) return reject(error);
      file.on('entry', (entry: yauzl.Entry) => {
        if (!/^functions\/[^/]+\.mjs$/.test(entry.fileName)) return file.readEntry();
        file.openReadStream(entry, (openError, stream) => {
          if (openError || !stream) return reject(openError);
          const out = join(dir, entry.fileName);
          mkdirSync(join(dir, 'functions'), { recursive: true });
          pipeline(stream, createWriteStream(out)).then(() => resolve(out), reject);
        });
      });
      file.on('end', () => reject(new Error(`${zip} has no functions/*.mjs`)));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

const functionFiles = readdirSync(join(projectRoot, 'functions')).filter((f) => f.endsWith('.ts'));
/** Functions that serve an operation over HTTP (the others are state machine tasks and the S3 trigger). */
const operationFiles = functionFiles.filter((f) => readFileSync(join(projectRoot, 'functions', f), 'utf8').includes('serveOperation('));
const logicalId = (name: string) => name.charAt(0).toUpperCase() + name.slice(1) + 'LambdaFunction';
const camel = (file: string) => file.replace(/\.ts$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

describe('npm run package (osls, offline, no AWS credentials)', () => {
  let dir: string;
  let template: Template;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sls-package-'));
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
    env['SALT_FUNCTION_CONCURRENCY'] = '7';
    await promisify(execFile)(join(projectRoot, 'node_modules', '.bin', 'serverless'), ['package', '--stage', 'ci', '--package', dir], {
      cwd: projectRoot,
      env,
      timeout: 180_000,
    });
    template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  }, 200_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(functionFiles)('declares a Lambda function on nodejs22.x for functions/%s', (file) => {
    const resource = template.Resources[logicalId(camel(file))];
    expect(resource?.Type).toBe('AWS::Lambda::Function');
    expect(resource!.Properties['Runtime']).toBe('nodejs22.x');
    expect(resource!.Properties['Handler']).toBe(`functions/${file.replace(/\.ts$/, '')}.handler`);
  });

  it('routes every operation at its /saltstack/v1 path and its /v1/deploy alias', () => {
    const routes = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties['RouteKey'] as string);
    for (const file of operationFiles) {
      const [plugin, ...action] = file.replace(/\.ts$/, '').split('-');
      // plugin names may contain a dash (host-info): find the split that matches a route
      const candidates = action.map((_, i) => [[plugin, ...action.slice(0, i)].join('-'), action.slice(i).join('-')]);
      const found = candidates.find(([p, a]) => routes.includes(`POST /saltstack/v1/${p}/${a}`));
      expect(found).toBeDefined();
      expect(routes).toContain(`POST /v1/deploy/${found![0]}/${found![1]}`);
    }
    expect(routes).toContain('GET /saltstack/v1/openapi.json');
  });

  it('keeps every bundled function under 1.5 MB of code (source maps aside), the router under 3 MB', async () => {
    // custom-resources.zip is serverless's own helper for the notification of an existing bucket
    const zips = readdirSync(dir).filter((f) => f.endsWith('.zip') && f !== 'custom-resources.zip');
    expect(zips.length).toBe(functionFiles.length);
    // The router bundles every operation (it is their union: about 2.2 MB); it evaluates each one on its
    // route's first request only, so its import stays as quick as one function's.
    const router = await codeSizes(join(dir, 'router.zip'));
    expect([...router].filter(([name]) => !name.endsWith('.map')).reduce((sum, [, size]) => sum + size, 0)).toBeLessThan(3 * 1024 * 1024);
    for (const zip of zips.filter((z) => z !== 'router.zip')) {
      const sizes = await codeSizes(join(dir, zip));
      const code = [...sizes].filter(([name]) => !name.endsWith('.map')).reduce((sum, [, size]) => sum + size, 0);
      expect([zip, code < 1.5 * 1024 * 1024]).toEqual([zip, true]);
    }
  });

  it('loads every bundled function as Lambda would (no module left out of a bundle is imported at load)', async () => {
    const zips = readdirSync(dir).filter((f) => f.endsWith('.zip') && f !== 'custom-resources.zip');
    const failures: string[] = [];
    for (const zip of zips) {
      const bundle = await extractBundle(join(dir, zip), join(dir, zip.replace(/\.zip$/, '')));
      // the runtime provides the AWS SDK: resolve it from this project's node_modules like the runtime does
      const env = { PATH: process.env['PATH'], NODE_PATH: join(projectRoot, 'node_modules'), STAGE: 'local', AUTH_MODE: 'off', LOG_LEVEL: 'error' };
      const loaded = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); if (typeof m.handler !== 'function') throw new Error('no handler');`,
        ],
        { env, encoding: 'utf8', timeout: 30_000 },
      );
      if (loaded.status !== 0) failures.push(`${zip}: ${loaded.stderr.split('\n').find((l) => /Error/.test(l)) ?? loaded.stderr.slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
  }, 180_000);

  it('declares the release state machine from state-machines/release.asl.json, its tasks bound to the release functions', () => {
    const machine = template.Resources['ReleaseStateMachine'];
    expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
    const [body, substitutions] = machine!.Properties['DefinitionString']['Fn::Sub'] as [string, Record<string, unknown>];
    const asl = JSON.parse(readFileSync(join(projectRoot, 'state-machines', 'release.asl.json'), 'utf8')) as { States: Record<string, unknown> };
    expect(Object.keys(JSON.parse(body.replace(/"\$\{\w+\}"/g, '"x"')).States)).toEqual(Object.keys(asl.States));
    const targets = Object.values(substitutions).map((v) => (v as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']);
    expect(new Set(targets.map(([id]) => id))).toEqual(
      new Set([
        'ReleasePrepareLambdaFunction',
        'ReleaseSliceLambdaFunction',
        'ReleaseHostStepLambdaFunction',
        'ReleaseAdvanceLambdaFunction',
        'ReleaseFinishLambdaFunction',
      ]),
    );
    for (const [id, attribute] of targets) {
      expect(template.Resources[id]?.Type).toBe('AWS::Lambda::Function');
      expect(attribute).toBe('Arn');
    }
    // the state machine's own role may invoke those functions and nothing else; its only "*" statement is
    // the log delivery and X-Ray actions, which AWS does not scope to a resource
    const role = template.Resources[machine!.Properties['RoleArn']['Fn::GetAtt'][0]];
    const statements = (role!.Properties['Policies'] as Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> } }>).flatMap(
      (p) => p.PolicyDocument.Statement,
    );
    const invoke = statements.filter((s) => s.Action.includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]!.Resource)).not.toContain('"*"');
    const unscoped = statements.filter((s) => s.Resource === '*').flatMap((s) => s.Action);
    expect(
      unscoped.every((a) =>
        /^(logs:(Create|Get|Update|Delete|List)LogDeliver(y|ies)|logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|xray:\w+)$/.test(a),
      ),
    ).toBe(true);
    expect(unscoped).not.toContain('lambda:InvokeFunction');
    // its Distributed Map starts child executions of this very state machine, by name, and nothing else
    const start = statements.filter((s) => s.Action.includes('states:StartExecution'));
    expect(start).toHaveLength(1);
    expect(JSON.stringify(start[0]!.Resource)).toMatch(/:stateMachine:saltstack-plugin-[a-z]+-release"/);
    // ...and may describe and stop those children (execution:<name>/<map run>:<id>)
    const children = statements.filter((s) => JSON.stringify(s.Resource).includes('-release/*'));
    expect(children.map((s) => s.Action)).toEqual([['states:DescribeExecution', 'states:StopExecution']]);
  });

  it('notifies the release trigger of *.release.json uploads under the manifest prefix of the artifact bucket', () => {
    // the stack creates the bucket (no --param artifactBucket): the notification is part of the bucket
    const bucket = template.Resources['S3BucketArtifacts'];
    const [config] = bucket!.Properties['NotificationConfiguration'].LambdaConfigurations as Array<{
      Event: string;
      Function: unknown;
      Filter: { S3Key: { Rules: Array<Record<string, string>> } };
    }>;
    expect(config!.Event).toBe('s3:ObjectCreated:*');
    expect(config!.Filter.S3Key.Rules).toEqual([
      { Name: 'prefix', Value: 'releases/' },
      { Name: 'suffix', Value: '.release.json' },
    ]);
    expect(config!.Function).toEqual({ 'Fn::GetAtt': ['ReleaseTriggerLambdaFunction', 'Arn'] });
    // the handler re-checks the same prefix, and refuses every uploader until RELEASE_UPLOADERS names some
    const env = template.Resources['ReleaseTriggerLambdaFunction']!.Properties['Environment']['Variables'] as Record<string, string>;
    expect(env['RELEASE_MANIFEST_PREFIX']).toBe('releases/');
    expect(env['RELEASE_UPLOADERS']).toBe('');
  });

  it('reserves SALT_FUNCTION_CONCURRENCY for exactly the functions that call salt (the fleet-wide bound on AWS)', () => {
    const reserved = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['ReservedConcurrentExecutions'] !== undefined)
      .map(([id, r]) => [id, r.Properties['ReservedConcurrentExecutions']]);
    const salty = functionFiles
      .filter((f) => /^(host-file|host-user|disk|host-script|agent|apply-deployment|host-info|salt-api)-/.test(f) && f !== 'host-script-ssh-run.ts')
      .map((f) => [logicalId(camel(f)), 7]);
    // the router runs those operations too: bounded like them
    expect(reserved.sort()).toEqual([...salty, ['RouterLambdaFunction', 7]].sort());
  });

  it('lets release/start start, and release/status read, executions of the release state machine only', () => {
    const roleOf = (fn: string) => template.Resources[template.Resources[fn]!.Properties['Role']['Fn::GetAtt'][0]];
    const statementsOf = (fn: string) => roleOf(fn)!.Properties['Policies'][0].PolicyDocument.Statement as Array<{ Action: string[]; Resource: unknown }>;
    const statements = [...statementsOf('ReleaseStartLambdaFunction'), ...statementsOf('ReleaseStatusLambdaFunction')];
    const start = statements.find((s) => s.Action.includes('states:StartExecution'));
    expect(JSON.stringify(start!.Resource)).toContain('stateMachine');
    expect(JSON.stringify(start!.Resource)).not.toContain('"*"');
    const describe = statements.find((s) => s.Action.includes('states:DescribeExecution'));
    expect(JSON.stringify(describe!.Resource)).toContain('execution');
  });

  describe('the router: one Function URL serving every route (issue 16)', () => {
    const routeKeys = () =>
      Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
        .map((r) => r.Properties['RouteKey'] as string);

    it("has the stack's only Function URL, on a function whose timeout is above API Gateway's 30 s", () => {
      const urls = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Url');
      expect(urls.map(([id]) => id)).toEqual(['RouterLambdaFunctionUrl']);
      const [, url] = urls[0]!;
      expect(url.Properties['TargetFunctionArn']).toEqual({ 'Fn::GetAtt': ['RouterLambdaFunction', 'Arn'] });
      // AWS_IAM by default (NONE with --param routerUrlAuth=NONE, for WeCube: test/integration/aws-iam.test.ts);
      // every operation handler checks the platform JWT either way (AUTH_MODE=jwt below)
      expect(url.Properties['AuthType']).toBe('AWS_IAM');
      const fn = template.Resources['RouterLambdaFunction']!;
      expect(fn.Properties['Handler']).toBe('functions/router.handler');
      expect(fn.Properties['Timeout']).toBe(900);
      expect(fn.Properties['Environment']['Variables']['AUTH_MODE']).toBe('jwt');
      // no function may be invoked through a public URL (AWS_IAM needs no resource policy: callers' IAM grants it)
      const urlPermissions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties['FunctionUrlAuthType']);
      expect(urlPermissions).toEqual([]);
      expect(template.Outputs['RouterUrl']!.Value).toEqual({ 'Fn::GetAtt': ['RouterLambdaFunctionUrl', 'FunctionUrl'] });
    });

    it("serves every route of the HTTP API: its route table equals lib/wecube/routes.ts's", () => {
      const table = lazyRouteTable(FUNCTION_LOADERS);
      const posted = routeKeys()
        .filter((k) => k.startsWith('POST '))
        .map((k) => k.slice('POST '.length));
      expect(posted.sort()).toEqual(OPERATIONS.flatMap((op) => [currentPath(op), ...op.aliases]).sort());
      const served = new Set(posted.map((path) => `${resolveRoute(path)!.plugin}/${resolveRoute(path)!.action}`));
      expect([...table.byRoute.keys()].sort()).toEqual([...served].sort());
      expect(routeKeys()).toContain('GET /saltstack/v1/openapi.json');
    });

    it('answers every route from the packaged bundle: each reaches its operation (401 without a token), the document 200', async () => {
      const bundle = await extractBundle(join(dir, 'router.zip'), join(dir, 'router-probe'));
      const paths = routeKeys()
        .filter((k) => k.startsWith('POST '))
        .map((k) => k.slice('POST '.length));
      const env = {
        PATH: process.env['PATH'],
        NODE_PATH: join(projectRoot, 'node_modules'),
        STAGE: 'ci',
        AUTH_MODE: 'jwt',
        JWT_SIGNING_KEY: Buffer.alloc(64, 7).toString('base64'),
        LOG_LEVEL: 'error',
      };
      const script = `
        const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
        const event = (method, rawPath) => ({ version: '2.0', routeKey: '$default', rawPath, rawQueryString: '', headers: { 'content-type': 'application/json' },
          body: '{"inputs":[]}', isBase64Encoded: false, requestContext: { requestId: 'probe', http: { method, path: rawPath } } });
        const context = { awsRequestId: 'probe', getRemainingTimeInMillis: () => 60000 };
        const out = {};
        for (const path of ${JSON.stringify(paths)}) out[path] = (await handler(event('POST', path), context)).statusCode;
        out['GET /saltstack/v1/openapi.json'] = (await handler(event('GET', '/saltstack/v1/openapi.json'), context)).statusCode;
        out['POST /nowhere'] = (await handler(event('POST', '/nowhere'), context)).statusCode;
        process.stdout.write('\\nREPORT ' + JSON.stringify(out) + '\\n');`;
      const probe = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 60_000 });
      const line = probe.stdout.split('\n').find((l) => l.startsWith('REPORT '));
      expect([probe.status, line ? 'report' : probe.stderr.slice(-500)]).toEqual([0, 'report']);
      const statuses = JSON.parse(line!.slice('REPORT '.length)) as Record<string, number>;
      expect(statuses).toEqual({
        ...Object.fromEntries(paths.map((p) => [p, 401])),
        'GET /saltstack/v1/openapi.json': 200,
        'POST /nowhere': 404,
      });
    }, 90_000);
  });
});
