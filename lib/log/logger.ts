import { Redactor } from './redactor.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string) => void;

/** One structured JSON logger; children add persistent correlation keys (requestId, guid, jid). */
export class Logger {
  constructor(
    private readonly options: { level: LogLevel; sink: LogSink; redactor: Redactor },
    private readonly keys: Record<string, unknown> = {},
  ) {}

  get redactor(): Redactor {
    return this.options.redactor;
  }

  child(keys: Record<string, unknown>): Logger {
    return new Logger(this.options, { ...this.keys, ...keys });
  }

  debug(message: string, data?: Record<string, unknown>): void {
    this.write('debug', message, data);
  }
  info(message: string, data?: Record<string, unknown>): void {
    this.write('info', message, data);
  }
  warn(message: string, data?: Record<string, unknown>): void {
    this.write('warn', message, data);
  }
  error(message: string, data?: Record<string, unknown>): void {
    this.write('error', message, data);
  }

  private write(level: LogLevel, message: string, data?: Record<string, unknown>): void {
    if (RANK[level] < RANK[this.options.level]) return;
    const entry = this.options.redactor.redact({
      time: new Date().toISOString(),
      level,
      message,
      ...this.keys,
      ...data,
    });
    this.options.sink(JSON.stringify(entry));
  }
}

/** A logger writing JSON lines to stdout (CloudWatch on Lambda, the terminal locally). */
export function createLogger(level: LogLevel = 'info', sink: LogSink = (line) => process.stdout.write(line + '\n')): Logger {
  return new Logger({ level, sink, redactor: new Redactor() });
}
