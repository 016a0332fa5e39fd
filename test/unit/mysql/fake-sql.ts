/** A scripted SqlSession for unit tests: answers by matching the statement text, records what it was sent. */
import type { DatabaseError, DatabaseUnavailableError } from '../../../lib/errors.js';
import type { MysqlConnector, MysqlTarget, SqlResult, SqlSession } from '../../../lib/mysql/mysql-session.js';

export type Answer = Partial<SqlResult> | DatabaseError | DatabaseUnavailableError;
export type Rule = [RegExp | string, Answer | ((params: unknown[] | undefined) => Answer)];

export interface FakeServer {
  /** Every statement sent, in order, per session (`#<n> <sql>`), params included. */
  log: { session: number; sql: string; params?: unknown[] | undefined }[];
  opened: MysqlTarget[];
  closed: number;
  connect: MysqlConnector;
  /** Statements of all sessions, without the session number. */
  sent(): string[];
}

const ok = (answer: Partial<SqlResult>): SqlResult => ({ sets: [], affectedRows: 0, warnings: 0, ...answer });

/** A server whose answers are the first matching rule (a string matches exactly, a RegExp by test); default OK. */
export function fakeServer(rules: Rule[] = [], options: { refuseConnect?: DatabaseError | DatabaseUnavailableError } = {}): FakeServer {
  const server: FakeServer = {
    log: [],
    opened: [],
    closed: 0,
    sent: () => server.log.map((l) => l.sql),
    connect: async (target) => {
      if (options.refuseConnect) throw options.refuseConnect;
      server.opened.push(target);
      const id = server.opened.length;
      const session: SqlSession = {
        async query(sql, params) {
          server.log.push({ session: id, sql, params });
          const rule = rules.find(([match]) => (typeof match === 'string' ? match === sql : match.test(sql)));
          const answer = rule ? (typeof rule[1] === 'function' ? rule[1](params) : rule[1]) : {};
          if (answer instanceof Error) throw answer;
          return ok(answer);
        },
        async queryRows(sql, maxRows) {
          const { sets } = await session.query(sql);
          let left = maxRows;
          let truncated = false;
          const kept = sets.map((set) => {
            const rows = set.rows.slice(0, Math.max(0, left));
            if (rows.length < set.rows.length) truncated = true;
            left -= rows.length;
            return { columns: set.columns, rows };
          });
          return { sets: kept, truncated };
        },
        async close() {
          server.closed += 1;
        },
      };
      return session;
    },
  };
  return server;
}

export const rows = (columns: string[], ...data: (string | null)[][]): Partial<SqlResult> => ({ sets: [{ columns, rows: data }] });
