/** Parses Go-style durations as kubectl's `--timeout` takes them: `90s`, `1m30s`, `500ms`, `2h`. */
import { parseGoDuration } from '../api/validation/duration.js';
import { UsageError } from './errors.js';

/** Milliseconds in `text`. A bare number counts as seconds (kubectl would demand a unit). */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const ms = parseGoDuration(s);
  if (ms === undefined) throw new UsageError(`time: invalid duration "${text}"`);
  return ms;
}
