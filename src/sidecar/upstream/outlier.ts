/**
 * Outlier detection of one cluster, pure (the clock is passed in): an endpoint that answers
 * `consecutive5xx` 5xx in a row (connect failures and resets count as 5xx), or
 * `consecutiveGatewayFailure` gateway errors (502, 503, 504, connect failures, resets), is ejected
 * for base × (its ejections so far), capped at the maximum, as Envoy does. Ejections never take
 * more than `maxEjectionPercent` of the endpoints (at least one when the percentage is positive) and
 * never all of them: a cluster with one endpoint keeps it.
 */
import type { AttemptOutcome } from './retry.js';

export interface OutlierSettings {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
}

/** What the caller must count (Envoy's outlier_detection stats). */
export interface OutlierEvent {
  ejected?: string;
  /** which streak ejected it (Envoy counts them apart) */
  cause?: 'consecutive_5xx' | 'consecutive_gateway_failure';
  returned?: string[];
}

interface EndpointState {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** ejections so far; the multiplier of the next ejection time */
  ejections: number;
  /** ms timestamp when the current ejection ends; undefined when not ejected */
  ejectedUntil: number | undefined;
  /** when the last ejection ended, to let the multiplier decay while the endpoint stays healthy */
  returnedAt: number | undefined;
}

/** Snapshot `OutlierDetection` (seconds) → settings; undefined when absent or malformed. */
export function compileOutlierSettings(raw: unknown): OutlierSettings | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0 ? (o[k] as number) : undefined);
  const c5 = num('Consecutive5xx');
  const cg = num('ConsecutiveGatewayFailure');
  const base = num('BaseEjectionTime');
  const max = num('MaxEjectionTime');
  const pct = num('MaxEjectionPercent');
  if (c5 === undefined || cg === undefined || base === undefined || max === undefined || pct === undefined) return undefined;
  return { consecutive5xx: c5, consecutiveGatewayFailure: cg, baseEjectionMs: base * 1000, maxEjectionMs: max * 1000, maxEjectionPercent: pct };
}

export class OutlierTracker {
  private readonly endpoints = new Map<string, EndpointState>();
  private ejectedCount = 0;

  constructor(public settings: OutlierSettings) {}

  /** Endpoints ejected right now. */
  get active(): number {
    return this.ejectedCount;
  }

  /** True while `endpoint` is ejected at `now`; an ejection that has run out ends here. */
  isEjected(endpoint: string, now: number): boolean {
    const s = this.endpoints.get(endpoint);
    if (!s || s.ejectedUntil === undefined) return false;
    if (s.ejectedUntil > now) return true;
    this.unEject(s, now);
    return false;
  }

  /** Ends every ejection that has run out; returns the endpoints that came back. */
  sweep(now: number): string[] {
    const back: string[] = [];
    for (const [ep, s] of this.endpoints) {
      if (s.ejectedUntil !== undefined && s.ejectedUntil <= now) {
        this.unEject(s, now);
        back.push(ep);
      }
    }
    return back;
  }

  /** Records what an attempt on `endpoint` came to; `clusterSize` is how many endpoints the cluster has. */
  record(endpoint: string, outcome: AttemptOutcome, clusterSize: number, now: number): OutlierEvent {
    const returned = this.sweep(now);
    const event: OutlierEvent = returned.length > 0 ? { returned } : {};
    let s = this.endpoints.get(endpoint);
    if (!s) this.endpoints.set(endpoint, (s = { consecutive5xx: 0, consecutiveGateway: 0, ejections: 0, ejectedUntil: undefined, returnedAt: undefined }));
    const { is5xx, isGateway } = failureKinds(outcome);
    if (!is5xx && !isGateway) {
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
      // Envoy lowers the multiplier while the endpoint stays healthy; here, once per base time since it returned
      if (s.returnedAt !== undefined && s.ejections > 0 && now - s.returnedAt >= this.settings.baseEjectionMs) {
        s.ejections--;
        s.returnedAt = now;
      }
      return event;
    }
    if (is5xx) s.consecutive5xx++;
    if (isGateway) s.consecutiveGateway++;
    const by5xx = this.settings.consecutive5xx > 0 && s.consecutive5xx >= this.settings.consecutive5xx;
    const byGateway = this.settings.consecutiveGatewayFailure > 0 && s.consecutiveGateway >= this.settings.consecutiveGatewayFailure;
    if (!(by5xx || byGateway) || s.ejectedUntil !== undefined || !this.mayEject(clusterSize)) return event;
    s.ejections++;
    s.ejectedUntil = now + Math.min(this.settings.baseEjectionMs * s.ejections, Math.max(this.settings.maxEjectionMs, this.settings.baseEjectionMs));
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    this.ejectedCount++;
    event.ejected = endpoint;
    event.cause = by5xx ? 'consecutive_5xx' : 'consecutive_gateway_failure';
    return event;
  }

  /** Forgets endpoints the cluster no longer has. */
  retain(endpoints: ReadonlySet<string>): void {
    for (const [ep, s] of this.endpoints) {
      if (endpoints.has(ep)) continue;
      if (s.ejectedUntil !== undefined) this.ejectedCount--;
      this.endpoints.delete(ep);
    }
  }

  private mayEject(clusterSize: number): boolean {
    const pct = this.settings.maxEjectionPercent;
    if (pct <= 0 || clusterSize <= 1) return false;
    const cap = Math.min(clusterSize - 1, Math.max(1, Math.floor((clusterSize * pct) / 100)));
    return this.ejectedCount < cap;
  }

  private unEject(s: EndpointState, now: number): void {
    s.ejectedUntil = undefined;
    s.returnedAt = now;
    this.ejectedCount--;
  }
}

function failureKinds(outcome: AttemptOutcome): { is5xx: boolean; isGateway: boolean } {
  if (outcome.kind !== 'response') return { is5xx: true, isGateway: true };
  const s = outcome.status;
  return { is5xx: s >= 500 && s <= 599, isGateway: s === 502 || s === 503 || s === 504 };
}
