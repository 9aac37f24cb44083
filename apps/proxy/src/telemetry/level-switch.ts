/**
 * A logger whose level can change at run time (admin `/logging`), over the
 * JSON-lines logger from @weft/telemetry. Children follow the switch.
 */
import {
  createLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from '@weft/telemetry';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LevelSwitch {
  readonly logger: Logger;
  level(): LogLevel;
  setLevel(level: LogLevel): void;
}

export function createLevelSwitch(options: LoggerOptions): LevelSwitch {
  let current: LogLevel = options.level ?? 'info';
  const base = createLogger({ ...options, level: 'debug' });
  const wrap = (inner: Logger): Logger => {
    const at =
      (level: LogLevel) =>
      (msg: string, fields?: LogFields): void => {
        if (ORDER[level] >= ORDER[current]) inner[level](msg, fields);
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => wrap(inner.child(fields)),
    };
  };
  return {
    logger: wrap(base),
    level: () => current,
    setLevel: (level) => {
      current = level;
    },
  };
}
