/**
 * The traffic graph from the sidecars' counters. An edge is read on its receiving side (inbound
 * series): that sidecar's `source` label is the caller's identity only when the caller proved it
 * with a mesh certificate (src/sidecar/modules/observability.ts: the verified peer identity, else
 * the peer pod's `ns.pod` from AllowedEndpoints, else `unknown`), so the label itself says whether
 * the hop was mutual TLS. Traffic to a destination no sidecar receives (outside the mesh) is read
 * from the caller's outbound series instead. Rates are deltas between two collection rounds; a
 * counter that went down (a restarted sidecar) counts from zero.
 */
import type { Topology, TopologyEdge, TopologyNode } from '../model.js';
import type { Sample } from './prom.js';

export interface PodFacts {
  namespace: string;
  name: string;
  /** the owning Deployment, else the pod's own name */
  workload: string;
  ready: boolean;
  serviceAccount: string;
  ip?: string;
  /** runs a sidecar */
  meshed: boolean;
}

/** A sidecar's counters keyed `<series>\t<source>\t<extra>`: http (extra: code), tcp, tcpdenied, lat (extra: le). */
export type Counters = Map<string, number>;

const INBOUND = 'inbound';

/**
 * One sidecar's /metrics reduced to counters: inbound series by caller; outbound series (prefixed
 * `o`) by destination, used only for destinations no sidecar receives for (see buildTopology).
 */
export function countersOf(samples: readonly Sample[]): Counters {
  const c: Counters = new Map();
  const add = (key: string, v: number): void => void c.set(key, (c.get(key) ?? 0) + v);
  for (const s of samples) {
    const dir = s.labels['direction'];
    if (dir !== INBOUND && dir !== 'outbound') continue;
    const o = dir === INBOUND ? '' : 'o';
    const peer = (dir === INBOUND ? s.labels['source'] : s.labels['destination']) ?? 'unknown';
    switch (s.name) {
      case 'tessera_requests_total':
        add(`${o}http\t${peer}\t${s.labels['code'] ?? '0'}`, s.value);
        break;
      case 'tessera_tcp_connections_total':
        add(`${o}tcp\t${peer}\t`, s.value);
        break;
      case 'tessera_tcp_connections_denied_total':
        add(`${o}tcpdenied\t${peer}\t`, s.value);
        break;
      case 'tessera_request_duration_seconds_bucket':
        add(`${o}lat\t${peer}\t${s.labels['le'] ?? '+Inf'}`, s.value);
        break;
    }
  }
  return c;
}

/** Per key, what was added since `prev`; a counter that went down restarted, so all of it is new. */
export function deltaOf(cur: Counters, prev: Counters | undefined): Counters {
  const d: Counters = new Map();
  for (const [k, v] of cur) {
    const p = prev?.get(k) ?? 0;
    d.set(k, v >= p ? v - p : v);
  }
  return d;
}

export interface Caller {
  id: string;
  node: TopologyNode;
  /** the label is a certificate-verified mesh identity */
  mtls: boolean;
}

/** Who a `source` label names: a pod by `ns.pod` or address (plaintext), a workload by identity `sa.ns` (mTLS), else outside. */
export function resolveCaller(label: string, pods: readonly PodFacts[]): Caller {
  const node = (p: PodFacts): TopologyNode => ({ id: `${p.namespace}/${p.workload}`, namespace: p.namespace, workload: p.workload, kind: 'workload' });
  const byPod = pods.find((p) => `${p.namespace}.${p.name}` === label || (p.ip !== undefined && p.ip === label));
  if (byPod) return { id: node(byPod).id, node: node(byPod), mtls: false };
  const byIdentity = pods.filter((p) => `${p.serviceAccount}.${p.namespace}` === label).sort((a, b) => a.workload.localeCompare(b.workload));
  if (byIdentity.length > 0) return { id: node(byIdentity[0]!).id, node: node(byIdentity[0]!), mtls: true };
  const dot = label.lastIndexOf('.');
  // an identity whose pods are gone still names a service account in a namespace
  if (/^[a-z0-9-]+\.[a-z0-9-]+$/.test(label) && dot > 0) {
    const ns = label.slice(dot + 1);
    const sa = label.slice(0, dot);
    return { id: `${ns}/${sa}`, node: { id: `${ns}/${sa}`, namespace: ns, workload: sa, kind: 'unknown' }, mtls: true };
  }
  const id = `external:${label}`;
  return { id, node: { id, workload: label, kind: label === 'unknown' ? 'unknown' : 'external' }, mtls: false };
}

export interface ProxyRound {
  /** the pod whose sidecar reported these counters */
  namespace: string;
  pod: string;
  cur: Counters;
  /** what was added since the previous round (empty when the sidecar did not answer this round) */
  delta: Counters;
  /** seconds `delta` covers */
  seconds: number;
}

export interface TopologyInput {
  pods: readonly PodFacts[];
  proxies: readonly ProxyRound[];
  /** refusals read from access logs, per edge id: in this window, and since the dashboard started */
  deniedInWindow: ReadonlyMap<string, number>;
  deniedTotal: ReadonlyMap<string, number>;
}

interface Acc {
  edge: TopologyEdge;
  windowTotal: number;
  windowBad: number;
  rate: number;
  buckets: Map<number, number>;
  everyHopMtls: boolean;
}

const isServerError = (code: number): boolean => code === 0 || code >= 500;

/** The graph of one round: a node per workload with pods, edges from inbound counters. */
export function buildTopology(input: TopologyInput): Topology {
  const nodes = new Map<string, TopologyNode>();
  for (const p of input.pods) {
    const id = `${p.namespace}/${p.workload}`;
    const n = nodes.get(id) ?? { id, namespace: p.namespace, workload: p.workload, kind: 'workload' as const, podsReady: 0, podsTotal: 0 };
    n.podsTotal = (n.podsTotal ?? 0) + 1;
    if (p.ready) n.podsReady = (n.podsReady ?? 0) + 1;
    nodes.set(id, n);
  }
  const acc = new Map<string, Acc>();
  // a service `name.ns` in a namespace with sidecars is received by one, which reports the edge with its verified caller
  const meshedNamespaces = new Set(input.pods.filter((p) => p.meshed).map((p) => p.namespace));
  const receivedByMesh = (destination: string): boolean => {
    const dot = destination.lastIndexOf('.');
    return dot > 0 && meshedNamespaces.has(destination.slice(dot + 1));
  };
  for (const r of input.proxies) {
    const pod = input.pods.find((p) => p.namespace === r.namespace && p.name === r.pod);
    const self = `${r.namespace}/${pod?.workload ?? r.pod}`;
    if (!nodes.has(self)) nodes.set(self, { id: self, namespace: r.namespace, workload: pod?.workload ?? r.pod, kind: 'workload' });
    const secs = r.seconds > 0 ? r.seconds : 1;
    /** the edge of a series: inbound from its caller to us; outbound from us to a destination outside the mesh */
    const touch = (outbound: boolean, label: string, protocol: 'http' | 'tcp'): Acc => {
      let source: string;
      let target: string;
      let mtls: boolean;
      if (outbound) {
        source = self;
        target = `external:${label}`;
        mtls = false;
        if (!nodes.has(target)) nodes.set(target, { id: target, workload: label, kind: 'external' });
      } else {
        const caller = resolveCaller(label, input.pods);
        if (!nodes.has(caller.id)) nodes.set(caller.id, caller.node);
        source = caller.id;
        target = self;
        mtls = caller.mtls;
      }
      const id = `${source}->${target}`;
      let a = acc.get(id);
      if (!a) {
        a = { edge: { id, source, target, protocol, rps: 0, successRate: null, mtls, requests: 0, errors: 0 }, windowTotal: 0, windowBad: 0, rate: 0, buckets: new Map(), everyHopMtls: mtls };
        acc.set(id, a);
      }
      if (protocol === 'http') a.edge.protocol = 'http';
      a.everyHopMtls &&= mtls;
      return a;
    };
    for (const [key, v] of r.cur) {
      const [tagged, label, extra] = key.split('\t') as [string, string, string];
      const outbound = tagged.startsWith('o');
      const series = outbound ? tagged.slice(1) : tagged;
      if (series === 'lat' || (outbound && receivedByMesh(label))) continue;
      const a = touch(outbound, label, series === 'http' ? 'http' : 'tcp');
      const d = r.delta.get(key) ?? 0;
      a.rate += d / secs;
      if (series === 'http') {
        a.edge.requests += v;
        a.windowTotal += d;
        if (isServerError(Number(extra))) {
          a.edge.errors += v;
          a.windowBad += d;
        }
      } else if (series === 'tcp') {
        a.edge.requests += v;
        a.windowTotal += d;
      } else if (series === 'tcpdenied') {
        // a refused connection is counted here only (never in tcp_connections_total)
        a.edge.requests += v;
        a.edge.errors += v;
        a.windowTotal += d;
        a.windowBad += d;
      }
    }
    for (const [key, d] of r.delta) {
      const [tagged, label, le] = key.split('\t') as [string, string, string];
      const outbound = tagged === 'olat';
      if ((tagged !== 'lat' && !outbound) || d === 0 || (outbound && receivedByMesh(label))) continue;
      const a = touch(outbound, label, 'http');
      const bound = le === '+Inf' ? Infinity : Number(le);
      a.buckets.set(bound, (a.buckets.get(bound) ?? 0) + d);
    }
  }
  const edges: TopologyEdge[] = [];
  for (const [id, a] of acc) {
    const deniedW = input.deniedInWindow.get(id) ?? 0;
    // HTTP refusals are answered by the sidecar (4xx) and counted above as requests; the access log says which were refusals
    const bad = Math.min(a.windowTotal, a.windowBad + (a.edge.protocol === 'http' ? deniedW : 0));
    a.edge.rps = round3(a.rate);
    a.edge.successRate = a.windowTotal > 0 ? round3((a.windowTotal - bad) / a.windowTotal) : null;
    if (a.edge.protocol === 'http') a.edge.errors = Math.min(a.edge.requests, a.edge.errors + (input.deniedTotal.get(id) ?? 0));
    a.edge.mtls = a.everyHopMtls;
    const lat = percentiles(a.buckets);
    if (lat) a.edge.latencyMs = lat;
    edges.push(a.edge);
  }
  edges.sort((x, y) => x.id.localeCompare(y.id));
  return { nodes: [...nodes.values()].sort((x, y) => x.id.localeCompare(y.id)), edges };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * p50/p90/p99 in milliseconds from cumulative histogram buckets (upper bound → count at or below),
 * interpolated linearly inside the bucket as Prometheus' histogram_quantile does.
 */
export function percentiles(cumulative: ReadonlyMap<number, number>): { p50: number; p90: number; p99: number } | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? (bounds.length ? cumulative.get(bounds.at(-1)!)! : 0);
  if (!total) return undefined;
  const q = (phi: number): number => {
    const rank = phi * total;
    let prevBound = 0;
    let prevCount = 0;
    for (const b of bounds) {
      const c = cumulative.get(b)!;
      if (c >= rank) {
        // the open top bucket has no upper edge: report its lower one, as Prometheus does
        if (b === Infinity) return prevBound;
        const inBucket = c - prevCount;
        return inBucket > 0 ? prevBound + ((b - prevBound) * (rank - prevCount)) / inBucket : b;
      }
      prevBound = b;
      prevCount = c;
    }
    return prevBound;
  };
  const ms = (s: number): number => Math.round(s * 1e6) / 1e3;
  return { p50: ms(q(0.5)), p90: ms(q(0.9)), p99: ms(q(0.99)) };
}
