/**
 * cfn-lint with the serverless rules (cfn-lint-serverless), in a project-local venv under .build/ (git-ignored),
 * pinned, created on first use and re-created when the pins change (a marker file records them). The
 * integration test that lints the packaged template (test/integration/cfn-lint.test.ts) calls ensureCfnLint,
 * so `npm test` on a fresh machine installs it; `tsx scripts/lib/cfn-lint.ts` does it by hand.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CFN_LINT_VERSION = '1.58.0';
export const CFN_LINT_SERVERLESS_VERSION = '0.3.6';
const PINS = `cfn-lint==${CFN_LINT_VERSION} cfn-lint-serverless==${CFN_LINT_SERVERLESS_VERSION}\n`;

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CFN_LINT_VENV = join(ROOT, '.build', 'cfn-lint');

/** The venv's python cannot be made or pip failed: what happened and where the output is. */
export class CfnLintInstallError extends Error {
  override readonly name = 'CfnLintInstallError';
}

const marker = (venv: string) => join(venv, '.pins');
const ready = (venv: string) => existsSync(join(venv, 'bin', 'cfn-lint')) && existsSync(marker(venv)) && readFileSync(marker(venv), 'utf8') === PINS;

/** A python3 (3.9+, with venv) on PATH; cfn-lint 1.x needs 3.9. */
function python(): string {
  for (const candidate of ['python3', 'python3.12', 'python3.11', '/usr/bin/python3']) {
    try {
      const version = execFileSync(candidate, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
      const [major, minor] = version.split('.').map(Number);
      if (major === 3 && minor! >= 9) return candidate;
    } catch {
      // not this one
    }
  }
  throw new CfnLintInstallError('no python3 (3.9 or later, with the venv module) on PATH: install python3-venv');
}

/**
 * The path of the venv's cfn-lint, installing it first when missing or pinned differently (a minute on a
 * fresh machine, nothing afterwards). Throws CfnLintInstallError naming the failed step.
 */
export function ensureCfnLint(venv = CFN_LINT_VENV): string {
  const bin = join(venv, 'bin', 'cfn-lint');
  if (ready(venv)) return bin;
  rmSync(venv, { recursive: true, force: true });
  const step = (what: string, file: string, args: string[]) => {
    try {
      execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000 });
    } catch (error) {
      const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
      throw new CfnLintInstallError(`${what} failed (${venv}):\n${output.split('\n').slice(-20).join('\n')}`);
    }
  };
  step('python -m venv', python(), ['-m', 'venv', venv]);
  step(`pip install ${PINS.trim()}`, join(venv, 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '-q',
    '--disable-pip-version-check',
    '--no-input',
    `cfn-lint==${CFN_LINT_VERSION}`,
    `cfn-lint-serverless==${CFN_LINT_SERVERLESS_VERSION}`,
  ]);
  step('import cfn_lint_serverless', join(venv, 'bin', 'python'), ['-c', 'import cfnlint, cfn_lint_serverless.rules']);
  writeFileSync(marker(venv), PINS);
  return bin;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  console.log(`${ensureCfnLint()} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
