/**
 * Prometheus metrics of one sidecar: requests and latency by direction, source and destination
 * service, and TCP connections. The request path only bumps numbers in preallocated series (one
 * map lookup per request); label strings are rendered once per series. prom-client supplies the
 * process metrics (CPU, memory, event loop) under the `tessera_sidecar_` prefix.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds, from a sub-millisecond hop to a slow upstream. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Histogram {
  labels: string;
  counts: Float64Array;
  sum: number;
  count: number;
}

interface Counter {
  labels: string;
  value: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function renderLabels(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
}

export class SidecarMetrics {
  private readonly process = new Registry();
  private readonly base: [string, string][];
  private readonly requests = new Map<string, Counter>();
  private readonly latency = new Map<string, Histogram>();
  private readonly connections = new Map<string, Counter>();
  private readonly deniedConnections = new Map<string, Counter>();

  constructor(defaultLabels: Record<string, string>) {
    this.base = Object.entries(defaultLabels);
    this.process.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.process, prefix: 'tessera_sidecar_' });
  }

  recordRequest(direction: string, source: string, destination: string, code: number, seconds: number): void {
    const key = `${direction}\0${source}\0${destination}`;
    let h = this.latency.get(key);
    if (!h) {
      h = {
        labels: renderLabels([...this.base, ['direction', direction], ['source', source], ['destination', destination]]),
        counts: new Float64Array(LATENCY_BUCKETS.length),
        sum: 0,
        count: 0,
      };
      this.latency.set(key, h);
    }
    h.sum += seconds;
    h.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        h.counts[i]!++;
        break;
      }
    }
    const ckey = `${key}\0${code}`;
    let c = this.requests.get(ckey);
    if (!c) {
      c = { labels: `${h.labels},code="${code}"`, value: 0 };
      this.requests.set(ckey, c);
    }
    c.value++;
  }

  recordConnection(direction: string, source: string, destination: string): void {
    this.bump(this.connections, direction, source, destination);
  }

  /** A TCP connection a policy refused: closed before anything was forwarded. */
  recordDeniedConnection(direction: string, source: string, destination: string): void {
    this.bump(this.deniedConnections, direction, source, destination);
  }

  private bump(series: Map<string, Counter>, direction: string, source: string, destination: string): void {
    const key = `${direction}\0${source}\0${destination}`;
    let c = series.get(key);
    if (!c) {
      c = { labels: renderLabels([...this.base, ['direction', direction], ['source', source], ['destination', destination]]), value: 0 };
      series.set(key, c);
    }
    c.value++;
  }

  /** The Prometheus text exposition (format 0.0.4). */
  async text(): Promise<string> {
    let out = '# HELP tessera_requests_total HTTP requests handled by the sidecar, by direction, source and destination service and status code\n';
    out += '# TYPE tessera_requests_total counter\n';
    for (const c of this.requests.values()) out += `tessera_requests_total{${c.labels}} ${c.value}\n`;
    out += '# HELP tessera_request_duration_seconds Time from request head to response head through the sidecar\n';
    out += '# TYPE tessera_request_duration_seconds histogram\n';
    for (const h of this.latency.values()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += h.counts[i]!;
        out += `tessera_request_duration_seconds_bucket{${h.labels},le="${LATENCY_BUCKETS[i]}"} ${cumulative}\n`;
      }
      out += `tessera_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}\n`;
      out += `tessera_request_duration_seconds_sum{${h.labels}} ${h.sum}\n`;
      out += `tessera_request_duration_seconds_count{${h.labels}} ${h.count}\n`;
    }
    out += '# HELP tessera_tcp_connections_total TCP connections handled by the sidecar\n';
    out += '# TYPE tessera_tcp_connections_total counter\n';
    for (const c of this.connections.values()) out += `tessera_tcp_connections_total{${c.labels}} ${c.value}\n`;
    out += '# HELP tessera_tcp_connections_denied_total TCP connections an authorization policy refused (closed before anything was forwarded)\n';
    out += '# TYPE tessera_tcp_connections_denied_total counter\n';
    for (const c of this.deniedConnections.values()) out += `tessera_tcp_connections_denied_total{${c.labels}} ${c.value}\n`;
    return out + (await this.process.metrics());
  }

  get contentType(): string {
    return this.process.contentType;
  }
}
