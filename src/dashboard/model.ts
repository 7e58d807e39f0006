/**
 * What the dashboard server sends its page. The server (src/dashboard/server) builds it from the
 * mesh's API, the sidecars' admin endpoints and their access logs; the page (src/dashboard/ui) only
 * renders it. Both sides import these types, so a change here is a change of the wire format.
 *
 * Server push is Server-Sent Events on `GET /api/events`:
 *   event: state     data: DashboardState   (whole state, at least every 2 s)
 *   event: decision  data: Decision         (each refusal as soon as the server reads it)
 * and `GET /api/edges/<edge id, URI-encoded>/series` answers EdgeSeries.
 */
import type { SyncState } from '../control-plane/registry.js';

export interface DashboardState {
  meshName: string;
  /** RFC 3339, the server's clock */
  generatedAt: string;
  topology: Topology;
  proxies: ProxyView[];
  decisions: DecisionsView;
  resources: ResourceView[];
  /** what the server could not read this round (a sidecar that did not answer, a denied list), never secrets */
  problems: string[];
}

export interface Topology {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
}

export interface TopologyNode {
  /** `<namespace>/<workload>` for meshed workloads, `external:<authority>` otherwise */
  id: string;
  namespace?: string;
  /** the Deployment (or pod) name */
  workload: string;
  kind: 'workload' | 'external' | 'unknown';
  /** pods of the workload that are Ready / all */
  podsReady?: number;
  podsTotal?: number;
}

/** Traffic seen from `source` to `target`, over the last window (rates) and since the sidecars started (totals). */
export interface TopologyEdge {
  /** `<source id>-><target id>` */
  id: string;
  source: string;
  target: string;
  protocol: 'http' | 'tcp';
  /** requests (HTTP) or connections (TCP) per second over the window */
  rps: number;
  /** 0..1 over the window; null when nothing was seen in the window */
  successRate: number | null;
  /** every hop of this edge was mutual TLS between sidecars */
  mtls: boolean;
  latencyMs?: { p50: number; p90: number; p99: number };
  requests: number;
  errors: number;
}

export interface EdgeSeries {
  edgeId: string;
  /** oldest first, one point per collection round */
  points: { t: string; rps: number; successRate: number | null; p50Ms?: number; p99Ms?: number }[];
}

export interface ProxyView {
  namespace: string;
  pod: string;
  uuid: string;
  connected: boolean;
  sync: SyncState;
  sentVersion?: string;
  appliedVersion?: string;
  lastAck?: string;
  /** the error of the last rejected version (NACKED) */
  lastError?: string;
  /** the sidecar's chains per mount point, in order, as config_dump lists them */
  chains: { mount: string; plugins: string[] }[];
  certificates: CertificateView[];
  /** RFC 3339: when the dashboard last read the sidecar's admin server; chains, certificates and traffic are as of then */
  adminSeenAt?: string;
  /** why the last read of the admin server failed (a stopped or hung sidecar); absent when it answered */
  adminError?: string;
}

export interface CertificateView {
  /** what the certificate is for: the workload's identity, a trust root, an AccessCert… */
  role: string;
  subject: string;
  sans: string[];
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** days until notAfter, negative when expired */
  daysLeft: number;
}

export type DecisionKind = 'AuthorizationPolicy' | 'SMI' | 'AccessControl' | 'JWT' | 'RateLimit' | 'CircuitBreaker' | 'Plugin' | 'Other';

/** One refused request or connection, from a sidecar's access log. */
export interface Decision {
  /** stable across pushes, for de-duplication */
  id: string;
  time: string;
  namespace: string;
  workload: string;
  pod: string;
  direction: 'inbound' | 'outbound';
  protocol: 'http' | 'tcp';
  kind: DecisionKind;
  /** `<namespace>/<name>` of the policy that decided, when one did */
  policy?: string;
  /** the rule index or name within the policy */
  rule?: string;
  /** the explanation the sidecar gave (x-tessera-reason), never a token or header value */
  reason: string;
  /** the caller's principal as the sidecar authenticated it */
  principal?: string;
  method?: string;
  path?: string;
  authority?: string;
  status?: number;
}

export interface DecisionsView {
  /** newest first, at most 200 */
  recent: Decision[];
  /** per policy, from the sidecars' tessera_policy_decisions_total */
  counters: { policy: string; kind: DecisionKind; allow: number; deny: number }[];
}

export interface ResourceView {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** a one-line summary of status (conditions, phase), when the kind has one */
  status?: string;
  /** apply-time validation warnings for the object, as `kubectl apply` prints them */
  warnings: string[];
}
