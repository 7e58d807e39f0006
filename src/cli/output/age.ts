/** kubectl's AGE column: Go's `duration.HumanDuration`, reproduced rule for rule. */

/** Formats a duration in milliseconds the way kubectl prints ages (`5s`, `3m12s`, `2d3h`, `4y`). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // kubectl tolerates up to ~2s of clock skew as "now"
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** AGE of an object created at `timestamp` (RFC 3339), or `<unknown>` when it has none. */
export function formatAge(timestamp: string | undefined, nowMs: number): string {
  if (!timestamp) return '<unknown>';
  const created = Date.parse(timestamp);
  if (Number.isNaN(created)) return '<unknown>';
  return humanDuration(nowMs - created);
}
