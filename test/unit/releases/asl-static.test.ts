/**
 * The release state machine file, checked without running it: valid ASL, every Task names a deployed
 * function with a handler, every error it matches is one the code throws, every Task is bounded and
 * retried on transient errors, every host Task ends in a rollback, and the serverless loader maps it 1:1.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import * as errors from '../../../lib/errors.js';
import { functionOf, RELEASE_ASL_PATH, taskResources } from '../../../lib/releases/local-step-functions.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);

interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}
interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}
interface AslState {
  Type: string;
  Resource?: string;
  Comment?: string;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Error?: string;
  ItemProcessor?: AslMachine;
  [key: string]: unknown;
}
interface AslMachine {
  Comment?: string;
  ProcessorConfig?: { Mode: string; ExecutionType?: string };
  StartAt: string;
  States: Record<string, AslState>;
}

/** A fresh copy of the file each time (asl-validator and the local runner add fields to what they are given). */
const loadAsl = (): AslMachine => JSON.parse(readFileSync(RELEASE_ASL_PATH, 'utf8')) as AslMachine;
const asl = loadAsl();

/** Every state of the definition, Map bodies included, with the name of the Map it sits in. */
function allStates(machine: AslMachine, inside?: string): Array<{ name: string; state: AslState; inside: string | undefined }> {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    { name, state, inside },
    ...(state.ItemProcessor ? allStates(state.ItemProcessor, name) : []),
  ]);
}
const states = allStates(asl);
const tasks = states.filter((s) => s.state.Type === 'Task');

const TRANSIENT = [
  'SaltApiUnavailableError',
  'ArtifactStoreError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('release.asl.json: the ASL itself', () => {
  type Validator = (
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ) => { isValid: boolean; errorsText: (separator?: string) => string };
  const aslValidator = require('asl-validator') as Validator;

  it('passes asl-validator with path and ARN checks on', () => {
    const result = aslValidator(loadAsl(), { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is checked for real: a transition to a missing state or a bad path fails the validator', () => {
    const broken = loadAsl();
    broken.States['Advance']!['Next'] = 'NoSuchState';
    expect(aslValidator(broken, { checkPaths: true, checkArn: true }).isValid).toBe(false);
    const badPath = loadAsl();
    badPath.States['DeployBatch']!['ItemsPath'] = 'batch';
    expect(aslValidator(badPath, { checkPaths: true, checkArn: true }).isValid).toBe(false);
  });

  it('has the expected shape: Prepare → DeployBatch (Distributed Map over $.slices, every slice at once) → Advance → Finish; a slice: LoadSlice → DeployHosts (inline Map over its hosts) → TallySlice', () => {
    expect(asl.StartAt).toBe('Prepare');
    const map = asl.States['DeployBatch']!;
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.slices', MaxConcurrencyPath: '$.concurrency', ResultPath: '$.results', Next: 'Advance' });
    expect(map['ItemSelector']).toEqual({ 'release.$': '$.release', 'batch.$': '$.cursor', 'slice.$': '$$.Map.Item.Value' });
    const slice = map.ItemProcessor!;
    expect(slice.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(slice.StartAt).toBe('LoadSlice');
    expect(slice.States['LoadSlice']).toMatchObject({ Type: 'Task', ResultPath: '$.hosts', Next: 'DeployHosts' });
    const hosts = slice.States['DeployHosts']!;
    expect(hosts).toMatchObject({ Type: 'Map', ItemsPath: '$.hosts', ResultPath: '$.outcomes', Next: 'TallySlice' });
    expect(hosts.ItemProcessor!.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(hosts.ItemProcessor!.StartAt).toBe('IsUpdate');
    expect(slice.States['TallySlice']).toMatchObject({ Type: 'Task', End: true });
    // no host list in the parent: the slice's hosts come from release.json, its result is a tally
    expect(JSON.stringify(asl.States['Prepare'])).not.toContain('batches');
    expect(asl.States['MoreBatches']).toMatchObject({
      Type: 'Choice',
      Default: 'Finish',
      Choices: [{ Variable: '$.done', BooleanEquals: false, Next: 'DeployBatch' }],
    });
  });

  it('uses each state name once (the local runner maps task handlers by state name, Map bodies included)', () => {
    const names = states.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(taskResources(asl).size).toBe(tasks.length);
  });
});

describe('release.asl.json: Task resources and functions', () => {
  const serverless = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    functions: string;
    stepFunctions: { stateMachines: Record<string, { definition: string }> };
  };
  // serverless.yml takes every function from the one generated file (npm run generate, lib/registry.ts).
  const functionsFile = /^\$\{file\(\.\/(serverless\/functions\.yml)\)\}$/.exec(String(serverless.functions))?.[1];
  const declared = new Map<string, { file: string; handler: string }>();
  if (functionsFile) {
    const functions = parse(readFileSync(join(ROOT, functionsFile), 'utf8')) as Record<string, { handler: string }>;
    for (const [key, fn] of Object.entries(functions)) declared.set(key, { file: functionsFile, handler: fn.handler });
  }
  const named = [...new Set(tasks.map((t) => functionOf(t.state.Resource ?? '')))];

  it('takes its functions from serverless/functions.yml', () => {
    expect(functionsFile).toBe('serverless/functions.yml');
    expect(declared.size).toBeGreaterThan(4);
  });

  it('declares the state machine from the loader, with validation on', () => {
    expect(serverless.stepFunctions.stateMachines['release']!.definition).toBe('${file(./serverless/release-state-machine.cjs)}');
  });

  it.each(tasks.map((t) => [t.name, t.state.Resource!]))('Task %s is a Lambda ARN naming a function (%s)', (_name, resource) => {
    expect(resource).toMatch(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+$/);
    expect(functionOf(resource)).toBeDefined();
  });

  it('names exactly the five release task functions', () => {
    expect([...named].sort()).toEqual(['releaseAdvance', 'releaseFinish', 'releaseHostStep', 'releasePrepare', 'releaseSlice']);
  });

  it.each(named.map((key) => [key!]))('%s is declared in serverless/functions.yml', (key) => {
    expect(declared.get(key)).toEqual({ file: 'serverless/functions.yml', handler: `functions/${kebab(key)}.handler` });
  });

  it.each(named.map((key) => [key!]))('%s has its file functions/<kebab-case>.ts exporting handler', (key) => {
    const path = join(ROOT, 'functions', `${kebab(key)}.ts`);
    expect(existsSync(path)).toBe(true);
    const source = readFileSync(path, 'utf8');
    expect(source).toMatch(/^export (const|async function|function) handler\b/m);
    // ...and the handler is the release task of the same name.
    expect(source).toContain(`builtOnFirstCall((rt) => releaseTasks(rt).${key})`);
  });
});

describe('release.asl.json: error names', () => {
  /** Every error class lib/errors.ts exports: its literal `name` → its class name. */
  const classes = new Map<string, string>();
  for (const [exported, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof errors.PluginError)) continue;
    const instance = new (value as unknown as new (...args: unknown[]) => Error)('probe', 'host', 'step');
    classes.set(instance.name, exported);
  }
  const errorsSource = readFileSync(join(ROOT, 'lib', 'errors.ts'), 'utf8');
  const libSource = (function read(dir: string): string {
    return readdirSync(dir, { withFileTypes: true })
      .map((entry) => (entry.isDirectory() ? read(join(dir, entry.name)) : entry.name.endsWith('.ts') ? readFileSync(join(dir, entry.name), 'utf8') : ''))
      .join('\n');
  })(join(ROOT, 'lib'));

  const matched = [
    ...new Set(
      states
        .flatMap(({ state }) => [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals))
        .filter((n) => !n.startsWith('States.') && !n.startsWith('Lambda.')),
    ),
  ];

  it('matches our own error names (and the reflection found the error classes)', () => {
    expect(classes.get('InputError')).toBe('InputError');
    expect(matched.sort()).toEqual(['ArtifactStoreError', 'HealthCheckFailedError', 'SaltApiUnavailableError']);
  });

  it.each(matched.map((n) => [n]))('%s is the literal name of an error class in lib/errors.ts, thrown somewhere under lib/', (name) => {
    const className = classes.get(name);
    expect(className).toBeDefined();
    expect(errorsSource).toContain(`override readonly name = '${name}';`);
    expect(libSource).toContain(`new ${className}(`);
  });

  it('only uses States.* names the runtime defines', () => {
    const known = new Set([
      'States.ALL',
      'States.TaskFailed',
      'States.Timeout',
      'States.Runtime',
      'States.HeartbeatTimeout',
      'States.Permissions',
      'States.ResultPathMatchFailure',
      'States.ParameterPathFailure',
      'States.BranchFailed',
      'States.NoChoiceMatched',
      'States.IntrinsicFailure',
      'States.ExceedToleratedFailureThreshold',
      'States.ItemReaderFailed',
      'States.ResultWriterFailed',
      'States.QueryEvaluationError',
    ]);
    const used = states
      .flatMap(({ state }) => [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals))
      .filter((n) => n.startsWith('States.'));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(known).toContain(name);
  });

  it('documents the error of every Fail state in the Comment', () => {
    const fails = states.filter((s) => s.state.Type === 'Fail');
    expect(fails.map((f) => f.state.Error).sort()).toEqual(['ReleaseLeftChanged', 'ReleaseRefused', 'ReleaseRolledBack', 'ReleaseStopped']);
    for (const fail of fails) expect(asl.Comment).toContain(fail.state.Error);
  });

  it('gives no Fail state the name of a plugin error (a caller could not tell them apart)', () => {
    for (const fail of states.filter((s) => s.state.Type === 'Fail')) expect(classes.has(fail.state.Error!)).toBe(false);
  });
});

describe('release.asl.json: bounded, retried, rolled back', () => {
  it.each(tasks.map((t): [string, AslState] => [t.name, t.state]))('Task %s has a TimeoutSeconds within the Lambda limit', (_name, state) => {
    expect(Number.isInteger(state.TimeoutSeconds)).toBe(true);
    expect(state.TimeoutSeconds).toBeGreaterThan(0);
    expect(state.TimeoutSeconds).toBeLessThanOrEqual(900);
  });

  it.each(tasks.map((t): [string, AslState] => [t.name, t.state]))('Task %s retries every transient error name, with backoff', (_name, state) => {
    const retrier = (state.Retry ?? []).find((r) => r.ErrorEquals.includes('SaltApiUnavailableError'));
    expect(retrier).toBeDefined();
    expect([...retrier!.ErrorEquals].sort()).toEqual([...TRANSIENT].sort());
    expect(retrier!.MaxAttempts).toBeGreaterThanOrEqual(1);
    expect(retrier!.BackoffRate).toBeGreaterThan(1);
  });

  it('never retries a catch-all (an InputError or a failed rollback must not be repeated)', () => {
    for (const { state } of tasks) {
      for (const retrier of state.Retry ?? []) {
        expect(retrier.ErrorEquals).not.toContain('States.ALL');
        expect(retrier.ErrorEquals).not.toContain('States.TaskFailed');
        expect(retrier.ErrorEquals).not.toContain('RollbackFailedError');
      }
    }
  });

  it('retries HealthCheckFailedError in HealthCheck only, several times with a growing interval', () => {
    const retrying = tasks.filter((t) => (t.state.Retry ?? []).some((r) => r.ErrorEquals.includes('HealthCheckFailedError')));
    expect(retrying.map((t) => t.name)).toEqual(['HealthCheck']);
    const retrier = retrying[0]!.state.Retry!.find((r) => r.ErrorEquals.includes('HealthCheckFailedError'))!;
    expect(retrier.ErrorEquals).toEqual(['HealthCheckFailedError']);
    expect(retrier.MaxAttempts).toBeGreaterThanOrEqual(2);
    expect(retrier.BackoffRate).toBeGreaterThan(1);
  });

  const hostTasks = tasks.filter((t) => t.inside === 'DeployHosts');
  const forward = hostTasks.filter((t) => t.name !== 'RollBack' && t.name !== 'RecordLeftChanged');

  it("runs every host step inside the slice's inline Map", () => {
    expect(forward.map((t) => t.name).sort()).toEqual(['CheckDistribution', 'Commit', 'Distribute', 'EnsureUser', 'HealthCheck', 'Start', 'StopPrevious']);
  });

  it.each(forward.map((t): [string, AslState] => [t.name, t.state]))(
    'host Task %s catches everything into RollBack, keeping the error in $.failure',
    (_name, state) => {
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RollBack' }]);
    },
  );

  it('leaves no way for a Map iteration to fail: RollBack → RecordLeftChanged → LeftChangedUnrecorded', () => {
    const body = asl.States['DeployBatch']!.ItemProcessor!.States['DeployHosts']!.ItemProcessor!.States;
    expect(body['RollBack']!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackFailure', Next: 'RecordLeftChanged' }]);
    expect(body['RecordLeftChanged']!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordFailure', Next: 'LeftChangedUnrecorded' }]);
    expect(body['LeftChangedUnrecorded']).toMatchObject({ Type: 'Pass', End: true, Parameters: { 'host.$': '$.host', state: 'failed' } });
    for (const t of hostTasks) expect(t.state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL'))).toBe(true);
  });

  it('sends a failed Prepare to Finish with the error in $.prepareError (nothing deployed)', () => {
    expect(asl.States['Prepare']!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.prepareError', Next: 'Finish' }]);
  });

  it('keeps the host state through every forward step (results go to their own path or replace it only at Commit)', () => {
    const body = asl.States['DeployBatch']!.ItemProcessor!.States['DeployHosts']!.ItemProcessor!.States;
    for (const name of ['EnsureUser', 'StopPrevious', 'Start', 'HealthCheck']) expect(body[name]!.ResultPath).toBeNull();
    for (const name of ['Distribute', 'CheckDistribution']) expect(body[name]!.ResultPath).toBe('$.job');
    // Commit's result (the host outcome) is the iteration's output: the default ResultPath, never written
    // as "$" (aws-local-stepfunctions 3.0.0 would store it under a key named "$")
    expect(body['Commit']).not.toHaveProperty('ResultPath');
    expect(JSON.stringify(asl)).not.toContain('"ResultPath":"$"');
  });
});

describe('serverless/release-state-machine.cjs', () => {
  const load = require(join(ROOT, 'serverless', 'release-state-machine.cjs')) as () => unknown;

  /** The expected mapping, written independently: each Task's Lambda ARN → Fn::GetAtt of its function. */
  function expected(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(expected);
    if (!node || typeof node !== 'object') return node;
    const state = node as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(state).map(([key, value]) =>
        key === 'Resource' && state['Type'] === 'Task' ? [key, { 'Fn::GetAtt': [functionOf(value as string), 'Arn'] }] : [key, expected(value)],
      ),
    );
  }

  it('turns every Task resource into Fn::GetAtt [<function>, Arn] and leaves everything else identical', () => {
    const mapped = load();
    expect(mapped).toEqual(expected(loadAsl()));
    expect(JSON.stringify(mapped)).not.toContain('arn:aws:lambda');
  });

  it('maps as many resources as there are Tasks, to the five release functions', () => {
    const text = JSON.stringify(load());
    const refs = [...text.matchAll(/"Fn::GetAtt":\["([A-Za-z]+)","Arn"\]/g)].map((m) => m[1]);
    expect(refs).toHaveLength(tasks.length);
    expect([...new Set(refs)].sort()).toEqual(['releaseAdvance', 'releaseFinish', 'releaseHostStep', 'releasePrepare', 'releaseSlice']);
  });

  it('reads the file fresh on each call (no shared object a caller could mutate)', () => {
    const first = load() as AslMachine;
    first.States['Prepare']!.TimeoutSeconds = 1;
    expect((load() as AslMachine).States['Prepare']!.TimeoutSeconds).toBe(900);
  });
});
