/**
 * The local rate limiter's token bucket, as Envoy's local rate limit (and FSM's Envoy translation)
 * define it: `requests + burst` tokens to start with and at most, `requests` tokens added at the end
 * of each period (`unit`), one token per request or connection. Refills are whole periods counted
 * from the bucket's creation, computed when a token is asked for: no timer runs.
 */
export type Clock = () => number;

export class TokenBucket {
  private tokens: number;
  private lastFill: number;
  private readonly capacity: number;
  private readonly periodMs: number;

  constructor(
    private readonly perPeriod: number,
    periodSeconds: number,
    burst = 0,
    private readonly now: Clock = Date.now,
  ) {
    this.capacity = perPeriod + burst;
    this.tokens = this.capacity;
    this.periodMs = periodSeconds * 1000;
    this.lastFill = now();
  }

  /** Takes one token; false when none is left in this period. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Tokens left now (for tests and the admin view). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    if (this.periodMs <= 0) return;
    const t = this.now();
    const periods = Math.floor((t - this.lastFill) / this.periodMs);
    if (periods <= 0) return;
    this.tokens = Math.min(this.capacity, this.tokens + periods * this.perPeriod);
    this.lastFill += periods * this.periodMs;
  }
}
