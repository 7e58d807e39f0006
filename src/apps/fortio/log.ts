/** fortio's command-line log lines: `HH:MM:SS L message` on stderr, filtered by -loglevel. */

export const LOG_LEVELS = ['Debug', 'Verbose', 'Info', 'Warning', 'Error', 'Critical', 'Fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class FortioLogError extends Error {
  readonly code = 'FORTIO_ERR_LOGLEVEL';
}

/** `-loglevel` accepts fortio's names in any case. */
export function parseLogLevel(text: string): LogLevel {
  const found = LOG_LEVELS.find((l) => l.toLowerCase() === text.trim().toLowerCase());
  if (!found) throw new FortioLogError(`-loglevel ${text}: not one of ${LOG_LEVELS.join(', ')}`);
  return found;
}

export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string): void;
}

export function makeLogger(level: LogLevel, write: (line: string) => void, now: () => Date = () => new Date()): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const enabled = (l: LogLevel): boolean => LOG_LEVELS.indexOf(l) >= threshold;
  return {
    level,
    enabled,
    log(l, message) {
      if (!enabled(l)) return;
      const t = now();
      const hh = String(t.getUTCHours()).padStart(2, '0');
      const mm = String(t.getUTCMinutes()).padStart(2, '0');
      const ss = String(t.getUTCSeconds()).padStart(2, '0');
      write(`${hh}:${mm}:${ss} ${l[0]} ${message}\n`);
    },
  };
}
