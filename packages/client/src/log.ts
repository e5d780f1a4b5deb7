// Structured logging: one JSON line per event, quiet by default (warnings and errors only).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  /** Lowest level written; default from PEAPOD_LOG_LEVEL, else 'warn'. */
  level?: LogLevel;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
}

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && Object.hasOwn(rank, v);
}

function levelFromEnv(): LogLevel {
  const v = process.env.PEAPOD_LOG_LEVEL;
  return isLogLevel(v) ? v : 'warn';
}

function serializable(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const min = rank[opts.level ?? levelFromEnv()];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (rank[level] < min) return;
    const record: LogFields = { ts: new Date().toISOString(), level, component, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = serializable(v);
    write(JSON.stringify(record));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
