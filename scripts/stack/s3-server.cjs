#!/usr/bin/env node
'use strict';
/*
 * The stack's S3 (scripts/stack/services/s3.ts): s3rver started programmatically, so that its events can be relayed.
 *
 *   node s3-server.cjs --directory <dir> --port <n> --hooks <dir> [--address 127.0.0.1] [--bucket artifacts]...
 *
 * Every S3 event s3rver emits (an AWS S3 notification, {"Records": [...]}: ObjectCreated:Put/Post/Copy,
 * ObjectRemoved:Delete) is POSTed as JSON to the URL in each `<hooks>/*.url` file, read anew for every event
 * (add or remove a file to subscribe or unsubscribe). Deliveries run after the request that caused them,
 * concurrently, each with a 5 s timeout; failures are logged to stdout and never reach the S3 server.
 * The event's `userIdentity.principalId` names the uploader as `AWS:<access key id>` of the signed request
 * (`anonymous` when unsigned), not s3rver's random one: the release trigger allows uploaders by it.
 */
const { AsyncLocalStorage } = require('node:async_hooks');
const fs = require('node:fs');
const path = require('node:path');
const S3rver = require('s3rver');

const HOOK_TIMEOUT_MS = 5000;

function log(message) {
  process.stdout.write(`${new Date().toISOString()} s3-server: ${message}\n`);
}

function parseArgs(argv) {
  const opts = { address: '127.0.0.1', buckets: [], silent: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--directory':
        opts.directory = value();
        break;
      case '--address':
        opts.address = value();
        break;
      case '--port':
        opts.port = Number(value());
        break;
      case '--bucket':
        opts.buckets.push(value());
        break;
      case '--hooks':
        opts.hooks = value();
        break;
      case '--silent':
        opts.silent = true;
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!opts.directory) throw new Error('--directory is required');
  if (!opts.hooks) throw new Error('--hooks is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0..65535');
  return opts;
}

/** The URLs to notify: the first non-empty line of every *.url file in the hooks directory. */
async function hookUrls(dir) {
  let names;
  try {
    names = await fs.promises.readdir(dir);
  } catch (error) {
    if (error.code !== 'ENOENT') log(`hooks: cannot read ${dir}: ${error.message}`);
    return [];
  }
  const out = [];
  for (const name of names.filter((n) => n.endsWith('.url')).sort()) {
    try {
      const url = (await fs.promises.readFile(path.join(dir, name), 'utf8'))
        .split('\n')
        .map((l) => l.trim())
        .find(Boolean);
      if (url) out.push({ name, url });
      else log(`hook ${name}: empty, skipped`);
    } catch (error) {
      // removed meanwhile: unsubscribed
      if (error.code !== 'ENOENT') log(`hook ${name}: cannot read: ${error.message}`);
    }
  }
  return out;
}

// A hook URL's path may carry its secret (scripts/serve.ts does): logs show the origin only.
function shownUrl(url) {
  try {
    return `${new URL(url).origin}/...`;
  } catch {
    return '(not a URL)';
  }
}

async function post(hook, body, what) {
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(HOOK_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) log(`hook ${hook.name}: POST ${shownUrl(hook.url)} (${what}) answered ${res.status}`);
  } catch (error) {
    const cause = error && error.cause && error.cause.message ? ` (${error.cause.message})` : '';
    log(`hook ${hook.name}: POST ${shownUrl(hook.url)} (${what}) failed: ${error && error.message}${cause}`);
  }
}

/** The access key id a request is signed with (header V2/V4 or presigned query), or undefined. */
function accessKeyOf(headers, query) {
  const auth = String(headers.authorization || '');
  const v4 = /Credential=([^/,\s]+)\//.exec(auth);
  if (v4) return v4[1];
  const v2 = /^AWS ([^:\s]+):/.exec(auth);
  if (v2) return v2[1];
  const credential = query['X-Amz-Credential'] || query['x-amz-credential'];
  if (credential) return String(credential).split('/')[0];
  return query.AWSAccessKeyId ? String(query.AWSAccessKeyId) : undefined;
}

// The request an event is emitted in (s3rver emits synchronously inside the request, without it).
const requests = new AsyncLocalStorage();

async function deliver(hooksDir, event) {
  const hooks = await hookUrls(hooksDir);
  if (!hooks.length) return;
  const body = JSON.stringify(event);
  const r = (event && event.Records && event.Records[0]) || {};
  const what = `${r.eventName} ${r.s3 && r.s3.bucket && r.s3.bucket.name}/${r.s3 && r.s3.object && r.s3.object.key}`;
  await Promise.all(hooks.map((hook) => post(hook, body, what)));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.directory, { recursive: true });
  const server = new S3rver({
    directory: opts.directory,
    address: opts.address,
    port: opts.port,
    silent: opts.silent,
    configureBuckets: opts.buckets.map((name) => ({ name, configs: [] })),
  });
  // First of all middleware, so that the whole request (and the events it emits) runs in its context.
  server.middleware.unshift((ctx, next) => requests.run(ctx, next));
  // Emitted synchronously inside the request: hand the event over and return at once.
  server.on('event', (event) => {
    const ctx = requests.getStore();
    const key = ctx && accessKeyOf(ctx.headers || {}, ctx.query || {});
    for (const record of (event && event.Records) || []) record.userIdentity = { principalId: key ? `AWS:${key}` : 'anonymous' };
    setImmediate(() => {
      deliver(opts.hooks, event).catch((error) => log(`hooks: delivery failed: ${error && error.stack}`));
    });
  });
  const { address, port } = await server.run();
  log(`S3rver listening on ${address}:${port} (data ${opts.directory}, buckets ${opts.buckets.join(',') || '-'}, event hooks ${opts.hooks}/*.url)`);
  const stop = (signal) => {
    log(`${signal}: closing`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  log(`fatal: ${error && error.stack}`);
  process.exit(1);
});
