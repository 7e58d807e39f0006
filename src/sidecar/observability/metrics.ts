/**
 * Prometheus metrics of one sidecar: requests and latency by direction, source and destination
 * service. Label children are cached so a request costs two map lookups and two increments.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'direction' | 'source' | 'destination' | 'code'>;
  private readonly duration: Histogram<'direction' | 'source' | 'destination'>;
  private readonly tcp: Counter<'direction' | 'source' | 'destination'>;
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(v: number): void }>();

  constructor(defaultLabels: Record<string, string>) {
    this.registry.setDefaultLabels(defaultLabels);
    this.requests = new Counter({
      name: 'tessera_requests_total',
      help: 'HTTP requests handled by the sidecar, by direction, source and destination service and status code',
      labelNames: ['direction', 'source', 'destination', 'code'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'tessera_request_duration_seconds',
      help: 'Time from request head to response head through the sidecar',
      labelNames: ['direction', 'source', 'destination'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.tcp = new Counter({
      name: 'tessera_tcp_connections_total',
      help: 'TCP connections handled by the sidecar',
      labelNames: ['direction', 'source', 'destination'],
      registers: [this.registry],
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_sidecar_' });
  }

  recordRequest(direction: string, source: string, destination: string, code: number, seconds: number): void {
    const key = `${direction}\0${source}\0${destination}`;
    const ckey = `${key}\0${code}`;
    let c = this.requestChildren.get(ckey);
    if (!c) {
      c = this.requests.labels(direction, source, destination, String(code));
      this.requestChildren.set(ckey, c);
    }
    c.inc();
    let d = this.durationChildren.get(key);
    if (!d) {
      d = this.duration.labels(direction, source, destination);
      this.durationChildren.set(key, d);
    }
    d.observe(seconds);
  }

  recordConnection(direction: string, source: string, destination: string): void {
    this.tcp.labels(direction, source, destination).inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
