/**
 * The commands upstream grants every redis-user (§11.5): reads, plain writes, deletes and expiries on
 * strings, hashes, lists, sets and sorted sets; nothing administrative.
 */
export const USER_COMMANDS = [
  'GET',
  'MGET',
  'HGET',
  'HGETALL',
  'HMGET',
  'LRANGE',
  'LINDEX',
  'SMEMBERS',
  'SISMEMBER',
  'ZRANGE',
  'ZREVRANGE',
  'ZSCORE',
  'EXISTS',
  'TTL',
  'PTTL',
  'SET',
  'MSET',
  'HSET',
  'LPUSH',
  'RPUSH',
  'LSET',
  'LREM',
  'SADD',
  'SREM',
  'SUNION',
  'SINTER',
  'SDIFF',
  'ZADD',
  'ZREM',
  'ZINTERSTORE',
  'ZUNIONSTORE',
  'DEL',
  'EXPIRE',
  'PEXPIRE',
  'RENAME',
] as const;

export interface AclUserSpec {
  /** A new password; for an existing user undefined keeps the current ones. */
  password?: string | undefined;
  readPatterns: string[];
  writePatterns: string[];
  /** The user already exists: its key patterns are replaced only when new ones are given. */
  exists: boolean;
}

/**
 * The arguments after `ACL SETUSER <name>` (applied left to right by Redis), as an argument array so that
 * no value is ever parsed as a rule separator. Key patterns use Redis 7 read/write selectors `%R~`/`%W~`.
 */
export function aclSetUserRules(spec: AclUserSpec): string[] {
  const rules = ['on'];
  if (spec.password !== undefined) rules.push('resetpass', `>${spec.password}`);
  rules.push('-@all', ...USER_COMMANDS.map((c) => `+${c.toLowerCase()}`));
  const patterns = [...spec.readPatterns.map((p) => `%R~${p}`), ...spec.writePatterns.map((p) => `%W~${p}`)];
  if (!spec.exists || patterns.length > 0) rules.push('resetkeys', ...patterns);
  return rules;
}

// Upstream's check (CJK punctuation U+3000-303F, full-width forms U+FF00-FFEF), plus whitespace and
// control characters, which Redis refuses in a key pattern.
const ILLEGAL_PATTERN = /[\u3000-\u303f\uff00-\uffef\s\u0000-\u001f\u007f]/;

/** True if a key pattern has a character upstream or Redis refuses. */
export const patternIsIllegal = (pattern: string): boolean => ILLEGAL_PATTERN.test(pattern);
