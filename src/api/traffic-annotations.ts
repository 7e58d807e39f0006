/**
 * Tessera's per-Service traffic annotations (docs/traffic-management.md): request timeouts by path
 * prefix and outlier detection. FSM has neither knob on its kinds, so they ride on the destination
 * Service like Kubernetes' own per-Service tuning; the same parsers back validation and the compiler.
 */
import { parseGoDuration } from './validation/duration.js';

export const ROUTE_TIMEOUTS_ANNOTATION = 'tessera.flomesh.io/request-timeouts';
export const OUTLIER_DETECTION_ANNOTATION = 'tessera.flomesh.io/outlier-detection';

export interface RouteTimeout {
  /** path prefix; the longest one that prefixes the request path wins */
  prefix: string;
  /** milliseconds; 0 disables the timeout for that prefix */
  timeoutMs: number;
}

/** `/delay/=1s,/=30s` → prefixes, longest first; or the problem (a string). */
export function parseRouteTimeouts(text: string): RouteTimeout[] | string {
  const out: RouteTimeout[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0) return `${JSON.stringify(part)} is not PATH_PREFIX=DURATION`;
    const prefix = part.slice(0, eq).trim();
    const ms = parseGoDuration(part.slice(eq + 1).trim());
    if (!prefix.startsWith('/')) return `path prefix ${JSON.stringify(prefix)} must start with "/"`;
    if (ms === undefined || ms < 0) return `${JSON.stringify(part.slice(eq + 1))} is not a non-negative Go duration (like 500ms or 2s)`;
    if (out.some((t) => t.prefix === prefix)) return `path prefix ${JSON.stringify(prefix)} is listed twice`;
    out.push({ prefix, timeoutMs: ms });
  }
  if (out.length === 0) return 'lists no PATH_PREFIX=DURATION';
  return out.sort((a, b) => b.prefix.length - a.prefix.length);
}

export interface OutlierDetectionSettings {
  /** consecutive 5xx answers (and connect failures) that eject an endpoint */
  consecutive5xx: number;
  /** consecutive connect failures, resets and 502/503/504 answers that eject an endpoint */
  consecutiveGatewayFailure: number;
  /** ms; an ejected endpoint returns after base × the number of times it was ejected */
  baseEjectionTimeMs: number;
  /** ms; the ceiling of one ejection */
  maxEjectionTimeMs: number;
  /** at most this share of a cluster's endpoints is ejected at once (at least one, never all) */
  maxEjectionPercent: number;
}

/** Envoy's defaults, except maxEjectionPercent (Envoy 10 ejects nothing below ten endpoints but the one it always allows). */
export const OUTLIER_DEFAULTS: OutlierDetectionSettings = {
  consecutive5xx: 5,
  consecutiveGatewayFailure: 5,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 50,
};

const COUNT_KEYS = ['consecutive5xx', 'consecutiveGatewayFailure'] as const;
const TIME_KEYS = { baseEjectionTime: 'baseEjectionTimeMs', maxEjectionTime: 'maxEjectionTimeMs' } as const;

/**
 * `on` (the defaults), `off`, or `key=value,…` over the defaults: consecutive5xx, consecutiveGatewayFailure,
 * baseEjectionTime, maxEjectionTime (Go durations), maxEjectionPercent (0-100). Undefined means off.
 */
export function parseOutlierDetection(text: string): OutlierDetectionSettings | undefined | string {
  const t = text.trim();
  if (t === 'off' || t === 'false') return undefined;
  if (t === 'on' || t === 'true') return { ...OUTLIER_DEFAULTS };
  const out: OutlierDetectionSettings = { ...OUTLIER_DEFAULTS };
  for (const part of t.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if ((COUNT_KEYS as readonly string[]).includes(key)) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1) return `${key}: ${JSON.stringify(value)} is not a positive integer`;
      out[key as (typeof COUNT_KEYS)[number]] = n;
    } else if (key in TIME_KEYS) {
      const ms = parseGoDuration(value);
      if (ms === undefined || ms <= 0) return `${key}: ${JSON.stringify(value)} is not a positive Go duration (like 30s)`;
      out[TIME_KEYS[key as keyof typeof TIME_KEYS]] = ms;
    } else if (key === 'maxEjectionPercent') {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n > 100) return `maxEjectionPercent: ${JSON.stringify(value)} is not an integer 0-100`;
      out.maxEjectionPercent = n;
    } else {
      return `unknown setting ${JSON.stringify(key)} (use on, off, or consecutive5xx, consecutiveGatewayFailure, baseEjectionTime, maxEjectionTime, maxEjectionPercent)`;
    }
  }
  if (out.maxEjectionTimeMs < out.baseEjectionTimeMs) return 'maxEjectionTime must not be shorter than baseEjectionTime';
  return out;
}
