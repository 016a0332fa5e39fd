import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { minionConfig, minionPaths } from '../../../lib/agent/minion-config.js';

describe('minionPaths', () => {
  it('keeps the packaged layout for /etc/salt', () => {
    expect(minionPaths('/etc/salt/')).toMatchObject({ configFile: '/etc/salt/minion', pkiDir: '/etc/salt/pki/minion', pidFile: '/var/run/salt-minion.pid' });
  });

  it('keeps everything under any other dir', () => {
    const paths = minionPaths('/tmp/x/salt');
    for (const path of Object.values(paths)) expect(path.startsWith('/tmp/x/salt')).toBe(true);
  });
});

describe('minionConfig', () => {
  it('gives the minion its id, every master, the ports, and the file locations', () => {
    const paths = minionPaths('/opt/m');
    const config = parse(minionConfig({ id: '10.0.0.7', masters: ['10.0.0.1', 'salt-2.internal'], masterPort: 4506, publishPort: 4505, paths }));
    expect(config).toEqual({
      id: '10.0.0.7',
      master: ['10.0.0.1', 'salt-2.internal'],
      master_port: 4506,
      publish_port: 4505,
      master_tries: -1,
      tcp_keepalive: true,
      tcp_keepalive_idle: 60,
      rejected_retry: true,
      pki_dir: paths.pkiDir,
      cachedir: paths.cacheDir,
      sock_dir: paths.sockDir,
      pidfile: paths.pidFile,
      log_file: paths.logFile,
    });
  });

  it('leaves publish_port to the master when not configured', () => {
    expect(minionConfig({ id: 'h', masters: ['m'], masterPort: 4506, paths: minionPaths('/etc/salt') })).not.toContain('publish_port');
  });

  it('quotes values so that YAML cannot be injected through them', () => {
    const config = parse(minionConfig({ id: 'a"\nmaster: evil', masters: ['m'], masterPort: 1, paths: minionPaths('/etc/salt') }));
    expect(config.id).toBe('a"\nmaster: evil');
    expect(config.master).toEqual(['m']);
  });
});
