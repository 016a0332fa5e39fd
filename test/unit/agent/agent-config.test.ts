import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';

const base = { AUTH_MODE: 'off' };

describe('agent settings', () => {
  it('has the documented defaults', () => {
    expect(loadConfig(base).agent).toEqual({
      masters: [],
      masterPort: 4506,
      publishPort: undefined,
      configDir: '/etc/salt',
      minionBin: 'salt-minion',
      defaultMethod: 'repository',
      bootstrapUrl: 'https://github.com/saltstack/salt-bootstrap/releases/latest/download/bootstrap-salt.sh',
      bundleUrl: undefined,
      commandTimeoutS: 300,
      keyWaitS: 60,
      pingWaitS: 60,
    });
  });

  it('reads a master list, ports, a config dir without its trailing slash and the bundle endpoint', () => {
    const agent = loadConfig({
      ...base,
      AGENT_MINION_MASTERS: ' 10.0.0.1, salt-2 ,',
      AGENT_MINION_MASTER_PORT: '14506',
      AGENT_MINION_PUBLISH_PORT: '14505',
      AGENT_MINION_CONFIG_DIR: '/opt/salt/',
      AGENT_INSTALL_METHOD: 'bundle',
      AGENT_BUNDLE_URL: 's3://artifacts/minion.tar.gz',
    }).agent;
    expect(agent).toMatchObject({
      masters: ['10.0.0.1', 'salt-2'],
      masterPort: 14506,
      publishPort: 14505,
      configDir: '/opt/salt',
      defaultMethod: 'bundle',
      bundleUrl: 's3://artifacts/minion.tar.gz',
    });
  });

  it.each([
    ['AGENT_MINION_MASTER_PORT', 'x'],
    ['AGENT_MINION_PUBLISH_PORT', '70000'],
    ['AGENT_INSTALL_METHOD', 'curl'],
    ['AGENT_KEY_WAIT_S', '0'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(name);
  });
});
