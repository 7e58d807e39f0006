/** Inbound SMI access (permissive mode off): the routes and TCP identities TrafficTargets grant on one port of the destination. */
import { byString } from '../catalog/pods.js';
import type { Catalog, ResolvedTrafficTarget, ServicePortInfo, SmiHttpMatch, SmiPorts } from '../catalog/types.js';
import { canonicalJson } from './canonical.js';
import type { RouteRule } from './types.js';

export interface InboundAccessQuery {
  /** the destination proxy's identity `sa.ns` */
  identity: string;
  service: ServicePortInfo;
  /** the port this pod receives the service port on */
  targetPort: number;
  /** the local cluster allowed traffic goes to */
  cluster: string;
}

export interface InboundAccess {
  http: RouteRule[];
  /** identities allowed to open TCP connections to the port, sorted */
  tcpAllowedServices: string[];
}

/**
 * SMI TCPRoute/UDPRoute ports are "ports on the destination service" (security-rules.md §7); users
 * write either the Service port or the pod's (target) port, so either one matches.
 */
export function portsCover(ports: SmiPorts, servicePort: number, targetPort: number): boolean {
  return ports === 'all' || ports.includes(servicePort) || ports.includes(targetPort);
}

const WILDCARD: SmiHttpMatch = { path: '.*' };

/**
 * The HTTP matches one TrafficTarget grants on this port:
 * - with HTTPRouteGroup rules, their matches, on the ports of its TCPRoute rules when it has any
 *   (the TCPRoute says which port the traffic is allowed on, as in the seed's L7 example) and on every
 *   port otherwise;
 * - with only TCPRoute rules, any HTTP request on those ports (smi-conformance "traffic access": a
 *   TCPRoute with `ports: []` lets A call B's `/echo`, security-rules.md §8), since HTTP is TCP;
 * - with only UDPRoute rules, nothing.
 * A target with HTTPRouteGroup rules never gets the wildcard from its TCPRoute: in the L7 example
 * prometheus' target has both, and prometheus may only GET /metrics.
 */
function httpMatchesOf(t: ResolvedTrafficTarget, servicePort: number, targetPort: number): readonly SmiHttpMatch[] {
  const portAllowed = t.tcpPorts !== undefined && portsCover(t.tcpPorts, servicePort, targetPort);
  if (t.http !== undefined) return t.tcpPorts === undefined || portAllowed ? t.http : [];
  return portAllowed ? [WILDCARD] : [];
}

function routeOf(m: SmiHttpMatch, cluster: string, allowed: string[]): RouteRule {
  const route: RouteRule = { Path: m.path, Type: 'Regex', TargetClusters: { [cluster]: 100 }, AllowedServices: allowed };
  if (m.methods) route.Methods = [...m.methods];
  if (m.headers) route.Headers = { ...m.headers };
  return route;
}

/**
 * FSM's reorder (fsm-design.md §2.3 step 10): the catch-all `.*` last, otherwise by path; on equal
 * paths more headers first, then routes with methods before any-method ones; ties by content so the
 * order never depends on input order.
 */
function compareRoutes(a: RouteRule, b: RouteRule): number {
  const aAll = a.Path === '.*' ? 1 : 0;
  const bAll = b.Path === '.*' ? 1 : 0;
  return (
    aAll - bAll ||
    byString(a.Path, b.Path) ||
    Object.keys(b.Headers ?? {}).length - Object.keys(a.Headers ?? {}).length ||
    (a.Methods ? 0 : 1) - (b.Methods ? 0 : 1) ||
    byString(canonicalJson(a), canonicalJson(b))
  );
}

/**
 * Routes and TCP identities for one port of the proxy's own service. Nothing is allowed unless a
 * TrafficTarget whose destination is this proxy's identity says so (SMI: access is additive, default
 * deny). Equal routes from several targets (or rules) merge into one with the union of identities.
 */
export function inboundAccess(catalog: Catalog, q: InboundAccessQuery): InboundAccess {
  const targets = catalog.smi.byDestination.get(q.identity) ?? [];
  const tcp = new Set<string>();
  const routes = new Map<string, { match: SmiHttpMatch; allowed: Set<string> }>();
  for (const t of targets) {
    if (q.service.protocol === 'tcp') {
      if (t.tcpPorts !== undefined && portsCover(t.tcpPorts, q.service.port, q.targetPort)) for (const s of t.sources) tcp.add(s);
      continue;
    }
    for (const m of httpMatchesOf(t, q.service.port, q.targetPort)) {
      const key = canonicalJson(m);
      let entry = routes.get(key);
      if (!entry) routes.set(key, (entry = { match: m, allowed: new Set() }));
      for (const s of t.sources) entry.allowed.add(s);
    }
  }
  const http = [...routes.values()].map((e) => routeOf(e.match, q.cluster, [...e.allowed].sort(byString))).sort(compareRoutes);
  return { http, tcpAllowedServices: [...tcp].sort(byString) };
}
