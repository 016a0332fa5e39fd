/** Where a minion keeps its files, from its config dir. */
export interface MinionPaths {
  configDir: string;
  configFile: string;
  pkiDir: string;
  cacheDir: string;
  sockDir: string;
  pidFile: string;
  logFile: string;
}

export const DEFAULT_CONFIG_DIR = '/etc/salt';

/**
 * The packaged layout for `/etc/salt`; any other dir holds everything itself, so that a minion configured
 * there (tests, several minions on one machine) touches nothing outside it.
 */
export function minionPaths(configDir: string): MinionPaths {
  const dir = configDir.replace(/(.)\/+$/, '$1');
  if (dir === DEFAULT_CONFIG_DIR) {
    return {
      configDir: dir,
      configFile: `${dir}/minion`,
      pkiDir: `${dir}/pki/minion`,
      cacheDir: '/var/cache/salt/minion',
      sockDir: '/var/run/salt/minion',
      pidFile: '/var/run/salt-minion.pid',
      logFile: '/var/log/salt/minion',
    };
  }
  return {
    configDir: dir,
    configFile: `${dir}/minion`,
    pkiDir: `${dir}/pki/minion`,
    cacheDir: `${dir}/cache`,
    sockDir: `${dir}/run`,
    pidFile: `${dir}/run/salt-minion.pid`,
    logFile: `${dir}/log/minion`,
  };
}

// YAML double-quoted scalar: JSON's string syntax is a subset of it.
const yamlString = (text: string): string => JSON.stringify(text);

/**
 * The minion config written on the host: upstream's effective settings (§6.2: masters, id = host IP,
 * master_port, retry forever, TCP keepalive), retry after a rejection, and the file locations of `paths`.
 */
export function minionConfig(input: {
  id: string;
  masters: readonly string[];
  masterPort: number;
  publishPort?: number | undefined;
  paths: MinionPaths;
}): string {
  const { paths } = input;
  const lines = [
    '# Written by the saltstack plugin (agent/install); rewritten on every install.',
    `id: ${yamlString(input.id)}`,
    'master:',
    ...input.masters.map((m) => `  - ${yamlString(m)}`),
    `master_port: ${input.masterPort}`,
    ...(input.publishPort !== undefined ? [`publish_port: ${input.publishPort}`] : []),
    'master_tries: -1',
    'tcp_keepalive: True',
    'tcp_keepalive_idle: 60',
    // A reinstall deletes a stale accepted key after the new minion was already refused once: it must
    // retry then instead of exiting, or nothing would ever present the new key.
    'rejected_retry: True',
    `pki_dir: ${yamlString(paths.pkiDir)}`,
    `cachedir: ${yamlString(paths.cacheDir)}`,
    `sock_dir: ${yamlString(paths.sockDir)}`,
    `pidfile: ${yamlString(paths.pidFile)}`,
    `log_file: ${yamlString(paths.logFile)}`,
  ];
  return `${lines.join('\n')}\n`;
}
