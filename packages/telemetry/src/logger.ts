/**
 * Structured JSON logs: one object per line on stderr (or any sink).
 *
 * Fields are copied as given; callers must never pass keys or tokens. As a
 * second line of defence, values of fields whose name looks secret
 * (`token`, `key`, `password`, `secret`, `authorization`) are replaced by
 * `[redacted]`.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` as well. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** The component name, written as `logger`. */
  name: string;
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
  /** Clock for the `time` field; default Date.now. */
  now?: () => number;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /token|key$|^key|password|secret|authorization/i;

function serializeValue(name: string, value: unknown): unknown {
  if (SECRET_FIELD.test(name) && typeof value === 'string') return '[redacted]';
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message, name: value.name };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.cause !== undefined) out.cause = serializeValue('cause', value.cause);
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Creates a JSON-lines logger. Safe to call repeatedly; loggers hold no resources. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < threshold) return;
    const record: Record<string, unknown> = {
      time: new Date(now()).toISOString(),
      level,
      logger: options.name,
      msg,
    };
    for (const [k, v] of Object.entries(bound)) record[k] = serializeValue(k, v);
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = serializeValue(k, v);
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** Parses a `--log-level` value; returns undefined for anything else. */
export function parseLogLevel(value: string): LogLevel | undefined {
  return value in LEVELS ? (value as LogLevel) : undefined;
}
