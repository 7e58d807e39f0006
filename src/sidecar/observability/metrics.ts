/**
 * Prometheus metrics of one sidecar: requests and latency by direction, source and destination
 * service, and TCP connections. The request path only bumps numbers in preallocated series (one
 * map lookup per request); label strings are rendered once per series. The process metrics (CPU,
 * memory, event loop) carry prom-client's default names under the `tessera_sidecar_` prefix
 * (process-metrics.ts).
 */
import { ProcessMetrics } from './process-metrics.js';

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

interface EnvoyStat {
  /** Envoy's stat name, as /stats prints it */
  name: string;
  /** the Prometheus metric name */
  metric: string;
  labels: string;
  value: number;
}

/** A stat name as a Prometheus metric name part: `.`, `-` and anything else not allowed become `_`. */
function promName(stat: string): string {
  return stat.replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function renderLabels(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
}

export class SidecarMetrics {
  private readonly process: ProcessMetrics;
  private readonly base: [string, string][];
  private readonly requests = new Map<string, Counter>();
  private readonly latency = new Map<string, Histogram>();
  private readonly connections = new Map<string, Counter>();
  private readonly deniedConnections = new Map<string, Counter>();
  private readonly stats = new Map<string, EnvoyStat>();
  private readonly policyDecisions = new Map<string, Counter>();
  private readonly unhandledErrors = new Map<string, Counter>();
  private readonly grpcCalls = new Map<string, Counter>();

  constructor(defaultLabels: Record<string, string>) {
    this.base = Object.entries(defaultLabels);
    this.process = new ProcessMetrics('tessera_sidecar_', renderLabels(this.base));
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

  /**
   * An authorization decision that names its policy: `decision` is allowed, denied, or for an
   * `istio.io/dry-run` policy shadow_allowed / shadow_denied (never enforced). `policy` is `ns/name`,
   * empty for a refused token (no policy decided).
   */
  recordPolicyDecision(policy: string, action: string, decision: 'allowed' | 'denied' | 'shadow_allowed' | 'shadow_denied'): void {
    const key = `${policy}\0${action}\0${decision}`;
    let c = this.policyDecisions.get(key);
    if (!c) {
      c = { labels: renderLabels([...this.base, ['policy', policy], ['action', action], ['decision', decision]]), value: 0 };
      this.policyDecisions.set(key, c);
    }
    c.value++;
  }

  /** An error nobody caught (watchdog/async-failures.ts): `plugin` is the plugin it was attributed to, empty when none. */
  recordUnhandledError(kind: 'exception' | 'rejection', plugin: string): void {
    const key = `${kind}\0${plugin}`;
    let c = this.unhandledErrors.get(key);
    if (!c) {
      c = { labels: renderLabels([...this.base, ['kind', kind], ['plugin', plugin]]), value: 0 };
      this.unhandledErrors.set(key, c);
    }
    c.value++;
  }

  /** A gRPC call's outcome, once its `grpc-status` is known (in the trailers, after the body). */
  recordGrpc(direction: string, source: string, destination: string, grpcStatus: string): void {
    const key = `${direction}\0${source}\0${destination}\0${grpcStatus}`;
    let c = this.grpcCalls.get(key);
    if (!c) {
      c = { labels: renderLabels([...this.base, ['direction', direction], ['source', source], ['destination', destination], ['grpc_status', grpcStatus]]), value: 0 };
      this.grpcCalls.set(key, c);
    }
    c.value++;
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

  /**
   * Counts an Envoy-style stat, by the name FSM's and Istio's users grep for in `proxy get stats`:
   * `cluster.<cluster>.<stat>` with a cluster (`upstream_rq_retry`, `upstream_cx_overflow`…),
   * `<stat>` as given without one (`http_local_rate_limiter.http_local_rate_limit.rate_limited`).
   * The same counter is exported to Prometheus under Envoy's name (`envoy_cluster_<stat>` with an
   * `envoy_cluster_name` label, `envoy_<stat with . as _>` otherwise).
   */
  countStat(stat: string, cluster?: string, by = 1): void {
    const name = cluster === undefined ? stat : `cluster.${cluster}.${stat}`;
    let c = this.stats.get(name);
    if (!c) {
      const metric = cluster === undefined ? `envoy_${promName(stat)}` : `envoy_cluster_${promName(stat)}`;
      const labels = renderLabels([...this.base, ...(cluster === undefined ? [] : [['envoy_cluster_name', cluster] as [string, string]])]);
      c = { name, metric, labels, value: 0 };
      this.stats.set(name, c);
    }
    c.value += by;
  }

  /** Registers a stat at 0 so it is listed before it first counts (Envoy lists its counters from the start). */
  declareStat(stat: string, cluster?: string): void {
    this.countStat(stat, cluster, 0);
  }

  /** Envoy's `/stats` text: `name: value` per line, sorted by name; `filter` keeps matching names. */
  statsText(filter?: RegExp): string {
    const names = [...this.stats.keys()].filter((n) => !filter || filter.test(n)).sort();
    return names.map((n) => `${n}: ${this.stats.get(n)!.value}\n`).join('');
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
    out += '# HELP tessera_grpc_calls_total gRPC calls by direction, source and destination service and grpc-status (from the trailers; "none" when the call ended without one)\n';
    out += '# TYPE tessera_grpc_calls_total counter\n';
    for (const c of this.grpcCalls.values()) out += `tessera_grpc_calls_total{${c.labels}} ${c.value}\n`;
    out += '# HELP tessera_tcp_connections_total TCP connections handled by the sidecar\n';
    out += '# TYPE tessera_tcp_connections_total counter\n';
    for (const c of this.connections.values()) out += `tessera_tcp_connections_total{${c.labels}} ${c.value}\n`;
    out += '# HELP tessera_tcp_connections_denied_total TCP connections an authorization policy refused (closed before anything was forwarded)\n';
    out += '# TYPE tessera_tcp_connections_denied_total counter\n';
    for (const c of this.deniedConnections.values()) out += `tessera_tcp_connections_denied_total{${c.labels}} ${c.value}\n`;
    out += '# HELP tessera_policy_decisions_total Authorization decisions by the policy that decided, its action and the decision (shadow_*: istio.io/dry-run, not enforced)\n';
    out += '# TYPE tessera_policy_decisions_total counter\n';
    for (const c of this.policyDecisions.values()) out += `tessera_policy_decisions_total{${c.labels}} ${c.value}\n`;
    out += '# HELP tessera_sidecar_unhandled_errors_total Errors nobody caught, by kind and the plugin they were attributed to (empty: none); the sidecar survives them\n';
    out += '# TYPE tessera_sidecar_unhandled_errors_total counter\n';
    for (const c of this.unhandledErrors.values()) out += `tessera_sidecar_unhandled_errors_total{${c.labels}} ${c.value}\n`;
    const byMetric = new Map<string, EnvoyStat[]>();
    for (const c of this.stats.values()) byMetric.set(c.metric, [...(byMetric.get(c.metric) ?? []), c]);
    for (const [metric, list] of [...byMetric].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out += `# TYPE ${metric} counter\n`;
      for (const c of list) out += `${metric}{${c.labels}} ${c.value}\n`;
    }
    return out + (await this.process.text());
  }

  get contentType(): string {
    return 'text/plain; version=0.0.4; charset=utf-8';
  }
}
