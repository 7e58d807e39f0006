/** Pure formatting for the page: health bands, numbers, versions and times as people read them. */

export type Health = 'healthy' | 'degraded' | 'failing' | 'idle';

/** The bands Kiali and Linkerd use for success rate: ≥ 99 % healthy, ≥ 95 % degraded, below failing. */
export function healthOf(successRate: number | null): Health {
  if (successRate === null) return 'idle';
  if (successRate >= 0.99) return 'healthy';
  if (successRate >= 0.95) return 'degraded';
  return 'failing';
}

export const HEALTH_COLOUR: Record<Health, string> = {
  healthy: '#1a7f37',
  degraded: '#bf8700',
  failing: '#cf222e',
  idle: '#8c959f',
};

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '–';
  const p = rate * 100;
  return `${p >= 99.95 || p === 0 ? p.toFixed(0) : p.toFixed(1)} %`;
}

export function perSecond(rps: number): string {
  if (rps === 0) return '0/s';
  return `${rps >= 10 ? rps.toFixed(0) : rps >= 1 ? rps.toFixed(1) : rps.toFixed(2)}/s`;
}

export function millis(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** Config versions are content hashes: their first 8 characters tell two apart at a glance. */
export function shortVersion(v: string | undefined): string {
  return v ? v.slice(0, 8) : '–';
}

/** "12 s ago", "3 min ago", "2 h ago", relative to the server's clock (generatedAt), not the browser's. */
export function ago(iso: string | undefined, nowIso: string): string {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((Date.parse(nowIso) - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '–';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** HH:MM:SS of an RFC 3339 time, in the browser's zone. */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/** A certificate expiring within a week is a warning, an expired one an error. */
/**
 * Expiring: under a quarter of the certificate's life left (a sidecar renews its own at about two
 * thirds, so a workload certificate past that point missed its renewal), but never more than 7 days
 * ahead (a CA living ten years is not "expiring" for two and a half).
 */
export function expiryClass(c: { daysLeft: number; notBefore?: string; notAfter: string }): 'expired' | 'expiring' | 'ok' {
  if (c.daysLeft < 0) return 'expired';
  const lifetimeDays = c.notBefore ? (Date.parse(c.notAfter) - Date.parse(c.notBefore)) / 86_400_000 : Infinity;
  if (c.daysLeft < Math.min(7, lifetimeDays / 4)) return 'expiring';
  return 'ok';
}

/** "21 h left" under two days (workload certificates live a day), "40 d left", "expired 2 d ago". */
export function timeLeft(notAfter: string, nowIso: string, daysLeft: number): string {
  if (daysLeft < 0) return `expired ${-daysLeft} d ago`;
  if (daysLeft >= 2) return `${daysLeft} d left`;
  const h = Math.floor((Date.parse(notAfter) - Date.parse(nowIso)) / 3_600_000);
  if (!Number.isFinite(h)) return `${daysLeft} d left`;
  return h < 0 ? 'expired' : h < 1 ? 'under 1 h left' : `${h} h left`;
}

/** The chain's module paths without the shared `modules/` folder and `.js`: the names people know. */
export function pluginName(path: string): string {
  return path.replace(/^modules\//, '').replace(/\.js$/, '');
}
