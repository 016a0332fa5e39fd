import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';

/**
 * The production server runs root commands on every minion for whoever calls it, so it requires the
 * platform's JWT: AUTH_MODE=off is refused unless SERVER_INSECURE_ALLOW_NO_AUTH=true says so on purpose
 * (and the config's own rule allows it only with STAGE=local). The JWT key itself is checked by the
 * config (required with AUTH_MODE=jwt, long enough for HS256). Returns the warning to log, if any;
 * throws ConfigError naming the variables.
 */
export function checkServerAuth(config: Pick<Config, 'authMode' | 'server'>): string | undefined {
  if (config.authMode === 'jwt') return undefined;
  if (!config.server.insecureAllowNoAuth) {
    throw new ConfigError(
      'AUTH_MODE=off: the server refuses to start without authentication (anyone reaching its port could run root commands on every minion); ' +
        'set AUTH_MODE=jwt with JWT_SIGNING_KEY, or SERVER_INSECURE_ALLOW_NO_AUTH=true for a throwaway test box',
    );
  }
  return 'AUTH_MODE=off with SERVER_INSECURE_ALLOW_NO_AUTH=true: NO AUTHENTICATION, anyone reaching this port can run root commands on every minion';
}
