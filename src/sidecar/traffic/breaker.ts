/**
 * The error/slow circuit breaker of one upstream cluster, with FSM's semantics
 * (UpstreamTrafficSetting `connectionSettings.http.circuitBreaking`): over fixed windows of
 * `statTimeWindow`, count the requests started, the answers with status 5xx and the answers slower
 * than `slowTimeThreshold`. The circuit opens when the errors (or slow answers) reach the amount
 * threshold, or their share of the window's requests reaches the ratio threshold once at least
 * `minRequestAmount` requests were seen. While open, every request is answered with the degraded
 * status and body without reaching the upstream; after `degradedTimeWindow` it closes with fresh
 * counts. FSM's defaults apply to what is left out. Time comes from an injected clock; no timer runs.
 */
import type { CircuitBreakingConfig } from '../../snapshot/upstream-traffic.js';
import type { Clock } from './token-bucket.js';

/** FSM's sidecar defaults (outbound-circuit-breaker.js) for fields left at zero or out. */
export const BREAKER_DEFAULTS = {
  minRequestAmount: 100,
  statTimeWindowSeconds: 30,
  slowTimeThresholdSeconds: 5,
  degradedTimeWindowSeconds: 30,
  degradedStatusCode: 409,
  degradedResponseContent: 'Coming soon ...',
} as const;

export type BreakerEvent = 'opened' | 'closed';

export interface BreakerTrip {
  cause: 'error-amount' | 'error-ratio' | 'slow-amount' | 'slow-ratio';
  total: number;
  errors: number;
  slow: number;
}

export class CircuitBreaker {
  readonly degradedStatus: number;
  readonly degradedBody: string;
  private readonly windowMs: number;
  private readonly degradedMs: number;
  private readonly slowMs: number;
  private readonly minRequests: number;
  private readonly slowEnabled: boolean;
  private readonly errorEnabled: boolean;
  private windowStart: number;
  private openUntil = 0;
  private total = 0;
  private errors = 0;
  private slow = 0;
  /** the last trip, while open */
  lastTrip: BreakerTrip | undefined;

  constructor(
    private readonly c: CircuitBreakingConfig,
    private readonly now: Clock = Date.now,
    private readonly onChange: (event: BreakerEvent, trip?: BreakerTrip) => void = () => {},
  ) {
    const d = BREAKER_DEFAULTS;
    this.windowMs = (c.StatTimeWindow || d.statTimeWindowSeconds) * 1000;
    this.degradedMs = (c.DegradedTimeWindow || d.degradedTimeWindowSeconds) * 1000;
    this.slowMs = (c.SlowTimeThreshold || d.slowTimeThresholdSeconds) * 1000;
    this.minRequests = c.MinRequestAmount || d.minRequestAmount;
    this.slowEnabled = (c.SlowAmountThreshold ?? 0) > 0 || (c.SlowRatioThreshold ?? 0) > 0;
    this.errorEnabled = (c.ErrorAmountThreshold ?? 0) > 0 || (c.ErrorRatioThreshold ?? 0) > 0;
    this.degradedStatus = c.DegradedStatusCode || d.degradedStatusCode;
    this.degradedBody = c.DegradedResponseContent ?? d.degradedResponseContent;
    this.windowStart = now();
  }

  /** True while the circuit is open: the request must get the degraded answer. Closes it when the window is over. */
  isOpen(): boolean {
    if (this.openUntil === 0) return false;
    const t = this.now();
    if (t < this.openUntil) return true;
    this.openUntil = 0;
    this.lastTrip = undefined;
    this.reset(t);
    this.onChange('closed');
    return false;
  }

  /** A request goes to the upstream. */
  started(): void {
    this.roll();
    this.total++;
  }

  /** Its answer: the status and how long it took. */
  finished(status: number, elapsedMs: number): void {
    if (this.openUntil !== 0) return; // counts restart when the circuit closes
    this.roll();
    if (this.errorEnabled && status >= 500) {
      if (this.errors < this.total) this.errors++;
      const cause = this.crossed(this.errors, this.c.ErrorAmountThreshold, this.c.ErrorRatioThreshold);
      if (cause) return this.open(cause === 'amount' ? 'error-amount' : 'error-ratio');
    }
    if (this.slowEnabled && elapsedMs >= this.slowMs) {
      if (this.slow < this.total) this.slow++;
      const cause = this.crossed(this.slow, this.c.SlowAmountThreshold, this.c.SlowRatioThreshold);
      if (cause) return this.open(cause === 'amount' ? 'slow-amount' : 'slow-ratio');
    }
  }

  private crossed(n: number, amount: number | undefined, ratio: number | undefined): 'amount' | 'ratio' | undefined {
    if (amount && n >= amount) return 'amount';
    if (ratio && this.total >= this.minRequests && n / this.total >= ratio) return 'ratio';
    return undefined;
  }

  private open(cause: BreakerTrip['cause']): void {
    const t = this.now();
    this.openUntil = t + this.degradedMs;
    this.lastTrip = { cause, total: this.total, errors: this.errors, slow: this.slow };
    this.onChange('opened', this.lastTrip);
  }

  /** Fixed windows: counts start over once a window has passed. */
  private roll(): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) this.reset(t);
  }

  private reset(t: number): void {
    this.windowStart = t;
    this.total = this.errors = this.slow = 0;
  }
}
