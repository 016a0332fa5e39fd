import type { SqlResultSet } from './mysql-session.js';

const escapeCell = (value: string | null): string =>
  value === null ? 'NULL' : value.replace(/[\\\t\n\0]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\0'));

/**
 * Result sets as the mysql client prints them in batch mode (what upstream returned in `detail`):
 * a tab-separated header row, then one line per row (nothing for an empty set), NULL as `NULL`, and `\`, tab, newline, NUL escaped.
 */
export function formatBatchOutput(sets: SqlResultSet[]): string {
  return sets
    .filter((set) => set.rows.length > 0) // the client prints nothing at all for an empty set
    .map((set) => [set.columns, ...set.rows].map((row) => row.map(escapeCell).join('\t') + '\n').join(''))
    .join('');
}
