/** Parses Go-style durations as kubectl's `--timeout` takes them: `90s`, `1m30s`, `500ms`, `2h`. */
import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in `text`. A bare number counts as seconds (kubectl would demand a unit). */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (!m) throw new UsageError(`time: invalid duration "${text}"`);
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * UNIT_MS[part[2]!]!;
  return m[1] ? -total : total;
}
