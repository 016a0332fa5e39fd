/** The old API guide's plugin names, served under /v1/deploy/ as aliases of the current ones. */
const LEGACY_PLUGINS: Record<string, string> = {
  file: 'host-file',
  variable: 'package-variable',
  script: 'host-script',
  user: 'host-user',
  database: 'mysql-script',
};
const LEGACY_ACTIONS: Record<string, string> = {
  'host-user/remove': 'delete',
  'mysql-script/runScript': 'run',
};

export interface RouteKey {
  plugin: string;
  action: string;
}

/**
 * Maps a request path to its operation: `/saltstack/v1/<plugin>/<action>` (current) or
 * `/v1/deploy/<plugin>/<action>` (legacy, old names translated). Returns undefined for other paths.
 */
export function resolveRoute(rawPath: string): RouteKey | undefined {
  const parts = rawPath.split('?')[0]!.split('/').filter(Boolean);
  if (parts.length !== 4) return undefined;
  const [a, b, plugin, action] = parts as [string, string, string, string];
  if (a === 'saltstack' && b === 'v1') return { plugin, action };
  if (a === 'v1' && b === 'deploy') {
    const current = LEGACY_PLUGINS[plugin] ?? plugin;
    return { plugin: current, action: LEGACY_ACTIONS[`${current}/${action}`] ?? action };
  }
  return undefined;
}

/** The legacy paths that reach an operation (the generic alias and the old guide's names). */
export function legacyPaths({ plugin, action }: RouteKey): string[] {
  const oldActions = [action, ...Object.entries(LEGACY_ACTIONS).flatMap(([k, v]) => (k.startsWith(`${plugin}/`) && v === action ? [k.slice(plugin.length + 1)] : []))];
  const oldPlugins = [plugin, ...Object.entries(LEGACY_PLUGINS).flatMap(([old, current]) => (current === plugin ? [old] : []))];
  return oldPlugins.flatMap((p) => oldActions.map((a) => `/v1/deploy/${p}/${a}`));
}
