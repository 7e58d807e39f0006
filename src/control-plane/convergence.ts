/**
 * How long the mesh takes to converge: from the moment the controller sees a change (a watch event,
 * or the initial sync) to the moment a proxy acknowledges the version that change produced. Istio's
 * `pilot_proxy_convergence_time` measures from the push; this starts earlier, at the watch event, so
 * the debounce window and the compile are part of the figure a user sees.
 *
 * A proxy that is sent V1 and then V2 before it acknowledges either converges when it ACKs V2, and
 * the time counts from the change behind V1: that change was not in effect on the proxy until then.
 * Each (proxy, version) is observed at most once, so repeated ACKs (a reconnect re-sending the same
 * version) do not count twice. Rejections are counted, not timed: a NACKed version never converges.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds, from a change picked up in one debounce window to a slow, large mesh. */
export const CONVERGENCE_BUCKETS = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60] as const;

interface Pending {
  version: string;
  /** epoch ms of the earliest change not yet in effect on the proxy */
  changeAt: number;
}

export class ConvergenceTracker {
  readonly registry = new Registry();
  private readonly pending = new Map<string, Pending>();
  private readonly seconds: Histogram;
  private readonly nacks: Counter;

  constructor(private readonly now: () => number = Date.now, opts: { processMetrics?: boolean } = {}) {
    this.seconds = new Histogram({
      name: 'tessera_proxy_convergence_seconds',
      help: 'Time from a change seen by the controller to a proxy acknowledging the version it produced',
      buckets: [...CONVERGENCE_BUCKETS],
      registers: [this.registry],
    });
    this.nacks = new Counter({
      name: 'tessera_proxy_nacks_total',
      help: 'Snapshot versions rejected by proxies',
      registers: [this.registry],
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tessera_controller_' });
  }

  /**
   * A recompute that began with a change seen at `changeAt` produced `version` for a proxy. A
   * proxy still waiting on an older version keeps that older change time.
   */
  produced(uuid: string, version: string, changeAt: number): void {
    const p = this.pending.get(uuid);
    if (p?.version === version) return;
    this.pending.set(uuid, { version, changeAt: p ? Math.min(p.changeAt, changeAt) : changeAt });
  }

  /** The proxy answered `version`: an ACK of the version it is waiting on is timed once. */
  acknowledged(uuid: string, version: string, ok: boolean): void {
    if (!ok) {
      this.nacks.inc();
      return;
    }
    const p = this.pending.get(uuid);
    if (!p || p.version !== version) return;
    this.pending.delete(uuid);
    this.seconds.observe(Math.max(0, this.now() - p.changeAt) / 1000);
  }

  /** Forgets proxies whose pods are gone. */
  retain(uuids: ReadonlySet<string>): void {
    for (const uuid of this.pending.keys()) if (!uuids.has(uuid)) this.pending.delete(uuid);
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
