import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { minionPaths } from '../../../lib/agent/minion-config.js';
import { failureText, INSTALL_SCRIPT, installCommand, lastStep, privileged, UNINSTALL_SCRIPT, uninstallCommand } from '../../../lib/agent/remote-scripts.js';
import { splitShellWords } from '../../../lib/scripts/shell-quote.js';

describe('remote scripts', () => {
  it.each([
    ['install', INSTALL_SCRIPT],
    ['uninstall', UNINSTALL_SCRIPT],
  ])('the %s script is valid POSIX sh', (_name, script) => {
    expect(() => execFileSync('sh', ['-n', '-c', script])).not.toThrow();
  });

  it('runs directly as root and through sudo -S (password on stdin, none on the command line) otherwise', () => {
    expect(privileged('root', ['true'])).toBe('true');
    expect(privileged('ops', ['true'])).toBe("sudo -S -p '' -- true");
  });

  it('passes every variable as one quoted argument of the constant script', () => {
    const config = 'id: "x"\n# $(touch /tmp/pwned) \' `x`\n';
    const line = installCommand('ops', { method: 'preinstalled', paths: minionPaths('/tmp/a b'), minionBin: 'salt-minion', config, url: 'https://b/s.sh' });
    const words = splitShellWords(line, 'command');
    expect(words.slice(0, 8)).toEqual(['sudo', '-S', '-p', '', '--', 'sh', '-c', INSTALL_SCRIPT]);
    expect(words.slice(8)).toEqual([
      'agent-install',
      'preinstalled',
      '/tmp/a b',
      'salt-minion',
      config,
      'https://b/s.sh',
      '/tmp/a b/pki/minion',
      '/tmp/a b/run/salt-minion.pid',
    ]);
    expect(splitShellWords(uninstallCommand('root', { method: 'repository', paths: minionPaths('/etc/salt') }), 'command').slice(3)).toEqual([
      'agent-uninstall',
      'repository',
      '/etc/salt',
      '/var/run/salt-minion.pid',
      '/etc/salt/pki/minion',
      '/var/cache/salt/minion',
    ]);
  });

  it.each([
    ['agent-step: install-package\nagent-step: configure\n', 'configure'],
    ['some output', undefined],
  ])('finds the last announced step in %j', (stdout, step) => {
    expect(lastStep(stdout)).toBe(step);
  });

  it.each([
    ['noise\nagent-fail: salt-minion is not installed (not on PATH)\n', 'salt-minion is not installed (not on PATH)'],
    ['E: Unable to locate package salt-minion\n', 'E: Unable to locate package salt-minion'],
    ['', 'no output'],
  ])('reads the failure of %j', (stderr, text) => {
    expect(failureText(stderr)).toBe(text);
  });
});
