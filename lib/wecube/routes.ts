import { currentPath, OPERATIONS } from '../registry.js';

export interface RouteKey {
  plugin: string;
  action: string;
}

/** Every path of every operation (current and aliases), from the registry. */
const ROUTES = new Map<string, RouteKey>(
  OPERATIONS.flatMap(({ plugin, action, aliases }) => [currentPath({ plugin, action }), ...aliases].map((path) => [path, { plugin, action }] as const)),
);

/** The old guide's plugin names (`user` for host-user), read off the registry's aliases. */
const OLD_PLUGINS = new Map<string, string>(OPERATIONS.flatMap(({ plugin, aliases }) => aliases.map((alias) => [alias.split('/')[3]!, plugin] as const)));

/**
 * Maps a request path to its operation: `/saltstack/v1/<plugin>/<action>` or one of the registry's legacy
 * aliases. Other names of that shape (and `/v1/deploy/<plugin>/<action>`) come back as they are, so that an
 * unknown operation gets upstream's "not found" envelope. A query string and one trailing `/` are ignored;
 * undefined for any other path.
 */
export function resolveRoute(rawPath: string): RouteKey | undefined {
  const path = rawPath.split('?')[0]!.replace(/(.)\/$/, '$1');
  const known = ROUTES.get(path);
  if (known) return { ...known };
  const parts = path.split('/').filter(Boolean);
  const [a, b, plugin = '', action = ''] = parts;
  if (parts.length !== 4) return undefined;
  if (a === 'saltstack' && b === 'v1') return { plugin, action };
  if (a === 'v1' && b === 'deploy') return { plugin: OLD_PLUGINS.get(plugin) ?? plugin, action };
  return undefined;
}

/** The legacy paths that reach an operation (the registry's aliases); none for an unknown one. */
export function legacyPaths({ plugin, action }: RouteKey): string[] {
  return [...(OPERATIONS.find((o) => o.plugin === plugin && o.action === action)?.aliases ?? [])];
}
