/**
 * Ages as kube-apiserver prints them: apimachinery's `duration.HumanDuration` and the printers'
 * `translateTimestampSince`. The server computes these cells, so kubectl shows them verbatim.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's integer division of a Duration truncates toward zero. */
const div = (ms: number, unit: number): number => Math.trunc(ms / unit);

/**
 * ~2-3 significant figures: `45s`, `119s`, `2m`, `9m59s`, `179m`, `3h`, `7h59m`, `47h`, `2d`, `7d23h`,
 * `729d`, `2y`, `7y364d`, `8y`. Up to 2s in the future is tolerated as clock skew (`0s`).
 */
export function humanDuration(ms: number): string {
  const seconds = div(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = div(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = div(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

// Date.UTC maps years 0-99 to 19xx, so the zero time is parsed from its text.
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

// RFC 3339 as Go's time.Parse(time.RFC3339) accepts it (fractional seconds allowed).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch, `null` for a zero/absent time, `undefined` for text that is not
 * RFC 3339. Go's zero time (0001-01-01T00:00:00Z) counts as absent, as `IsZero` does.
 */
export function parseTimestamp(value: unknown): number | null | undefined {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return ms === ZERO_TIME ? null : ms;
}

/** `translateTimestampSince`: the age of a timestamp, `<unknown>` when it is unset. */
export function translateTimestampSince(value: unknown, now: Date): string {
  const ms = parseTimestamp(value);
  if (ms === null || ms === undefined) return '<unknown>';
  return humanDuration(now.getTime() - ms);
}

/** Go's `t.UTC().Format(time.RFC3339)`: whole seconds, `Z`; the zero time for an unset one. */
export function formatRFC3339(value: unknown): string {
  const ms = parseTimestamp(value);
  if (ms === null || ms === undefined) return '0001-01-01T00:00:00Z';
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
