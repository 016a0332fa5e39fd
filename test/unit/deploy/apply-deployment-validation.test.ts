import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { applyDeploymentDelete, applyDeploymentNew, applyDeploymentUpdate } from '../../../lib/deploy/apply-deployment.js';
import { createRuntime, type Runtime } from '../../../lib/runtime.js';
import { runOperation } from '../../../lib/wecube/run-operation.js';
import { validateItem } from '../../../lib/input/validate-item.js';
import { FakeSaltApi } from '../salt/fake-salt-api.js';
import { captureLogger } from '../helpers.js';

let api: FakeSaltApi;
let rt: Runtime;

beforeAll(async () => {
  // Every request reaching it would be a failure of "refused before anything runs".
  api = await new FakeSaltApi().start();
  rt = createRuntime(
    loadConfig({ STAGE: 'local', AUTH_MODE: 'off', SALT_API_URL: api.url, SALT_API_PASSWORD: api.password, S3_ENDPOINT: 'http://127.0.0.1:9', S3_BUCKET: 'b' }),
    captureLogger().logger,
  );
});
afterAll(() => api.stop());

const full = {
  guid: 'g1',
  endpoint: 'http://127.0.0.1:9000/artifacts/app-1.0.tgz',
  userName: 'app:apps',
  target: '127.0.0.1',
  startScript: 'bin/start.sh',
  stopScript: 'bin/stop.sh',
  destinationPath: '/data/app',
};

/** The message validateItem throws for `item`, or '' when it passes. */
function message(op: { input: Parameters<typeof validateItem>[0] }, item: Record<string, unknown>): string {
  try {
    validateItem(op.input, item);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Starting with every required field missing, the error names them one after the other in upstream's order
 * (each time the reported field is then given); finally the item is valid.
 */
function reportedOrder(op: { input: Parameters<typeof validateItem>[0] }, fields: string[], blank: unknown): string[] {
  const item: Record<string, unknown> = Object.fromEntries(fields.map((f) => [f, blank]));
  const seen: string[] = [];
  for (let i = 0; i <= fields.length; i++) {
    const text = message(op, item);
    seen.push(text);
    if (!text) break;
    const field = fields[i]!;
    item[field] = full[field as keyof typeof full];
  }
  return seen;
}

const empty = (field: string) => `Parameter ${field} can not empty.`;

describe('apply-deployment validation order and texts (upstream §16.4-16.6)', () => {
  it.each([[undefined], [null], [''], ['  ']])('new: endpoint, userName, target, startScript, destinationPath (missing as %j)', (blank) => {
    const fields = ['endpoint', 'userName', 'target', 'startScript', 'destinationPath'];
    expect(reportedOrder(applyDeploymentNew(rt), fields, blank)).toEqual([...fields.map(empty), '']);
  });

  it.each([[undefined], [null], ['']])('update: endpoint, userName, target, startScriptPath, destinationPath, stopScriptPath (missing as %j)', (blank) => {
    const fields = ['endpoint', 'userName', 'target', 'startScript', 'destinationPath', 'stopScript'];
    const reported = ['endpoint', 'userName', 'target', 'startScriptPath', 'destinationPath', 'stopScriptPath'];
    expect(reportedOrder(applyDeploymentUpdate(rt), fields, blank)).toEqual([...reported.map(empty), '']);
  });

  it.each([[undefined], [null], ['']])('delete: guid, userName, target, stopScriptPath, destinationPath (missing as %j)', (blank) => {
    const fields = ['guid', 'userName', 'target', 'stopScript', 'destinationPath'];
    const reported = ['guid', 'userName', 'target', 'stopScriptPath', 'destinationPath'];
    expect(reportedOrder(applyDeploymentDelete(rt), fields, blank)).toEqual([...reported.map(empty), '']);
  });

  it('update without a start script names startScriptPath, as upstream', () => {
    const { startScript: _s, ...item } = full;
    expect(message(applyDeploymentUpdate(rt), item)).toBe('Parameter startScriptPath can not empty.');
  });

  it('new needs neither guid nor stopScript; delete needs neither endpoint nor startScript', () => {
    const { guid: _g, stopScript: _st, ...forNew } = full;
    expect(message(applyDeploymentNew(rt), forNew)).toBe('');
    const { endpoint: _e, startScript: _sc, ...forDelete } = full;
    expect(message(applyDeploymentDelete(rt), forDelete)).toBe('');
  });

  it('takes numbers and booleans where WeCube sends them, and refuses quotes in target', () => {
    expect(validateItem(applyDeploymentNew(rt).input, { ...full, guid: 42, args: 8080 })).toMatchObject({ guid: '42', args: '8080' });
    expect(message(applyDeploymentNew(rt), { ...full, target: "127.0.0.1'" })).toBe('Parameter target validation failed: target contains an illegal character');
    expect(message(applyDeploymentNew(rt), { ...full, userName: ['app'] })).toBe('Parameter userName validation failed: wrong type (array)');
  });
});

describe('apply-deployment refusals after validation, before anything runs on a host', () => {
  const ctx = () => ({ logger: captureLogger().logger, signal: new AbortController().signal, concurrency: 5 });

  it('refuses bad install directories, scripts, users and clear paths per item, with no salt call at all', async () => {
    const before = api.received.length;
    const update = await runOperation(
      applyDeploymentUpdate(rt),
      [
        { ...full, guid: 'root', destinationPath: '/' },
        { ...full, guid: 'shallow', destinationPath: '/srv/' },
        { ...full, guid: 'relative', destinationPath: 'data/app' },
        { ...full, guid: 'dotdot', destinationPath: '/data/../etc' },
        { ...full, guid: 'inject', destinationPath: '/data/app;touch /tmp/x' },
        { ...full, guid: 'escape', startScript: '../../etc/x.sh' },
        { ...full, guid: 'outside', startScript: '/data/app/bin/a.sh,/etc/x.sh' },
        { ...full, guid: 'stop', stopScript: 'bin/stop.sh; reboot' },
        { ...full, guid: 'user', userName: 'app:web:x' },
        { ...full, guid: 'clear', clearPath: 'logs/,../../etc' },
        { ...full, guid: 'clearself', clearPath: '/data/app/' },
      ],
      ctx(),
    );
    expect(update.map((o) => [o['guid'], o['errorCode'], o['errorType'], o['retCode']])).toEqual(
      ['root', 'shallow', 'relative', 'dotdot', 'inject', 'escape', 'outside', 'stop', 'user', 'clear', 'clearself'].map((g) => [g, '1', 'E_INPUT', 1]),
    );
    expect(update.map((o) => o['errorMessage'])).toEqual([
      'Parameter destinationPath validation failed: / is too close to / (an install directory is at least /<dir>/<app>)',
      'Parameter destinationPath validation failed: /srv is too close to / (an install directory is at least /<dir>/<app>)',
      'Parameter destinationPath validation failed: must be an absolute path',
      'Parameter destinationPath validation failed: must not contain ..',
      'Parameter destinationPath validation failed: may only contain letters, digits, spaces and _ . / @ % + = : , ~ -',
      'Parameter startScriptPath validation failed: ../../etc/x.sh must not contain ..',
      'Parameter startScriptPath validation failed: /etc/x.sh is not a script inside /data/app',
      "Parameter stopScriptPath validation failed: bin/stop.sh; reboot: unquoted ';' would be interpreted by a shell; quote it to pass it literally",
      'Parameter userName validation failed: must be user or user:group',
      'Parameter clearPath validation failed: ../../etc must not contain ..',
      'Parameter clearPath validation failed: /data/app/ names the install directory itself',
    ]);
    const created = await runOperation(applyDeploymentNew(rt), [{ ...full, startScript: 'bin/start.sh `id`' }], ctx());
    expect(created[0]).toMatchObject({ errorCode: '1', errorType: 'E_INPUT', target: '127.0.0.1' });
    expect(created[0]!['errorMessage']).toMatch(/^Parameter startScript validation failed: /);
    const deleted = await runOperation(
      applyDeploymentDelete(rt),
      [
        { ...full, destinationPath: '/srv' },
        { ...full, stopScript: '/data/app/bin/stop.sh|/etc/init.d/x' },
      ],
      ctx(),
    );
    expect(deleted.map((o) => o['errorMessage'])).toEqual([
      'Parameter destinationPath validation failed: /srv is too close to / (an install directory is at least /<dir>/<app>)',
      'Parameter stopScriptPath validation failed: /etc/init.d/x is not a script inside /data/app',
    ]);
    expect(api.received.length).toBe(before);
  });
});
