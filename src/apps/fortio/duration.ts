/** Go's time.Duration text: what fortio's flags and query parameters accept and how it prints elapsed time. */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Nanoseconds for `1.5s`, `250ms`, `1m30s`, `0`; undefined when the text is not a Go duration. */
export function parseDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** Trailing zeros (and a bare dot) dropped from a fixed-point number. */
function trimFraction(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** Go's Duration.String(): `40.2ms`, `5.636535962s`, `1m30s`, `1h0m0s`, `0s`. */
export function formatDuration(ns: number): string {
  const whole = Math.round(ns);
  if (whole === 0) return '0s';
  const sign = whole < 0 ? '-' : '';
  const n = Math.abs(whole);
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${trimFraction((n / 1e3).toFixed(3))}µs`;
  if (n < 1e9) return `${sign}${trimFraction((n / 1e6).toFixed(6))}ms`;
  const hours = Math.floor(n / 3600e9);
  const minutes = Math.floor((n % 3600e9) / 60e9);
  const seconds = trimFraction(((n % 60e9) / 1e9).toFixed(9));
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
