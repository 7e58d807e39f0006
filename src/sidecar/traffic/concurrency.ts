/**
 * Envoy-style connection-pool circuit breaking for one upstream cluster (UpstreamTrafficSetting
 * `maxConnections`, `maxRequests`, `maxPendingRequests`): at most `min(maxConnections,
 * maxRequests)` requests in flight (an HTTP/1.1 request holds one upstream connection while in
 * flight); the ones beyond wait in a queue of at most `maxPendingRequests` and are refused past it.
 */
export type Admission =
  /** go now */
  | { kind: 'go' }
  /** waited in the queue; `connectionOverflow`: it had to wait because all connections were busy */
  | { kind: 'wait'; ready: Promise<void>; connectionOverflow: boolean }
  /** refused: the queue is full (Envoy `upstream_rq_pending_overflow`) */
  | { kind: 'overflow'; connectionOverflow: boolean };

const UNLIMITED = Number.POSITIVE_INFINITY;

export class ConcurrencyLimit {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly limit: number;
  private readonly maxPending: number;
  /** the connection limit is the one that binds (Envoy counts `upstream_cx_overflow` then) */
  private readonly connectionBound: boolean;

  constructor(opts: { maxConnections?: number | undefined; maxRequests?: number | undefined; maxPendingRequests?: number | undefined }) {
    const cx = opts.maxConnections ?? UNLIMITED;
    const rq = opts.maxRequests ?? UNLIMITED;
    this.limit = Math.min(cx, rq);
    this.connectionBound = cx <= rq;
    this.maxPending = opts.maxPendingRequests ?? UNLIMITED;
  }

  get unlimited(): boolean {
    return this.limit === UNLIMITED;
  }

  admit(): Admission {
    if (this.active < this.limit) {
      this.active++;
      return { kind: 'go' };
    }
    const connectionOverflow = this.connectionBound;
    if (this.limit === 0 || this.queue.length >= this.maxPending) return { kind: 'overflow', connectionOverflow };
    const ready = new Promise<void>((resolve) => this.queue.push(resolve));
    return { kind: 'wait', ready, connectionOverflow };
  }

  /** A request admitted with `go` (or whose wait ended) is done. */
  release(): void {
    const next = this.queue.shift();
    if (next) next(); // the slot passes to the next waiting request
    else this.active--;
  }
}
