/**
 * What every service of the local stack is to the supervisor (its pidfile, ports, readiness, start), and the
 * one way each is brought up: left alone when running, ready and unchanged; restarted when its
 * configuration changed; started after its leftovers are stopped and its ports checked free.
 */
import { rmSync } from 'node:fs';
import type { Paths } from './context.js';
import { say } from './context.js';
import type { Ports } from './ports.js';
import { livePid, reapOrphans, requirePortFree, stopAll, waitFor } from './proc.js';

/** The state of one `up`/`restart` run. */
export interface Stack {
  paths: Paths;
  ports: Ports;
  minions: string[];
  /** Services whose generated configuration (or certificate) changed during this run. */
  changed: Set<string>;
}

export interface Service {
  name: string;
  pidfile: string;
  /** What its command line contains (a pid from the pidfile must match it). */
  pattern: string;
  /** Command-line fragments of its processes that name this stack's files (found after a kill -9). */
  orphans: string[];
  ports: number[];
  log: string;
  /** Writes its configuration files; the supervisor restarts it when any changed. */
  configure(stack: Stack): Promise<void> | void;
  /** Starts it (its pidfile names it within 30 s). */
  start(stack: Stack): Promise<void>;
  ready(): Promise<boolean>;
  readyTimeoutS: number;
  /** Runs once it is ready after a start (accounts, checks). */
  afterStart?(stack: Stack): Promise<void>;
  /** Shown by `status` when it is up. */
  detail: string;
}

export const pidOf = (s: Service) => livePid(s.pidfile, s.pattern);

/** Brings one service up (idempotent). */
export async function ensure(stack: Stack, s: Service, start: (stack: Stack, s: Service) => Promise<void> = startFresh): Promise<void> {
  await s.configure(stack);
  const pid = pidOf(s);
  if (pid !== undefined) {
    if (!stack.changed.has(s.name)) {
      await waitFor(s.readyTimeoutS, `${s.name} (pid ${pid}) to answer`, s.log, () => s.ready());
      say(`${s.name}: running (pid ${pid})`);
      return;
    }
    say(`${s.name}: configuration changed, restarting`);
    await stopAll([s]);
  }
  await start(stack, s);
}

/** Starts a service that is not running: leftovers stopped, ports free, then ready. */
export async function startFresh(stack: Stack, s: Service): Promise<void> {
  rmSync(s.pidfile, { force: true });
  for (const fragment of s.orphans) await reapOrphans(s.name, fragment);
  for (const port of s.ports) await requirePortFree(s.name, port);
  await s.start(stack);
  await waitFor(30, `${s.name}: its pidfile ${s.pidfile} to name a live ${s.pattern}`, s.log, () => pidOf(s) !== undefined);
  const pid = pidOf(s);
  await waitFor(s.readyTimeoutS, `${s.name} to answer`, s.log, () => s.ready());
  await s.afterStart?.(stack);
  say(`${s.name}: started (pid ${pidOf(s) ?? pid})`);
}
