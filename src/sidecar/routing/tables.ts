/**
 * Routing tables compiled once per snapshot: host → service rule → routes → weighted clusters, and
 * the DNS view. Requests only do map lookups and a few comparisons here.
 */
import type {
  HttpServiceRule,
  InboundTrafficMatch,
  ProxySnapshot,
  RouteRule,
} from '../../snapshot/types.js';
import { parseCidr, type Cidr } from '../../lib/cidr.js';
import type { RoutedCluster, RoutedService } from '../chain/types.js';

export interface CompiledRoute {
  rule: RouteRule;
  methods: Set<string> | undefined;
  matchPath: (path: string) => boolean;
  headers: [string, RegExp][];
  pickCluster: () => string | undefined;
}

export interface CompiledServiceRule {
  service: RoutedService;
  routes: CompiledRoute[];
}

export interface PortTable {
  protocol: 'http' | 'tcp' | 'grpc';
  /** host or host:port → rule */
  hosts: Map<string, CompiledServiceRule>;
  /** when the port serves exactly one service, requests with an unknown Host still reach it (inbound) */
  only: CompiledServiceRule | undefined;
  /** tcp: rule by name */
  tcp: Map<string, TcpRule>;
  /** inbound: the AccessControlRoute of clients outside the mesh that SourceIPRanges let in; undefined when none */
  outsideClients: OutsideClientRoute | undefined;
}

/** A port's AccessControlRoute, compiled with the SourceIPRanges it serves. */
export interface OutsideClientRoute {
  /** every well-formed SourceIPRanges entry; `plaintext` when its spec is null */
  ranges: { cidr: Cidr; plaintext: boolean }[];
  /** http and grpc ports: the service with one catch-all route and no AllowedServices */
  http: CompiledServiceRule | undefined;
  /** tcp ports: the service's rule with no AllowedServices */
  tcp: TcpRule | undefined;
}

export interface TcpRule {
  service: { name: string; namespace: string; port: number };
  pickCluster: () => string | undefined;
  plugins?: Record<string, unknown>;
  /** SMI: identities allowed to connect; absent means anyone in the mesh */
  allowed?: readonly string[];
}

export interface RoutingTables {
  inbound: Map<number, PortTable>;
  outbound: Map<number, PortTable>;
  clusters: Map<string, ClusterTable>;
  /** fqdn → port → endpoints */
  dns: Map<string, Map<number, readonly string[]>>;
  /** a Service's cluster IP → its fqdn in `dns` */
  serviceIPs: Map<string, string>;
  /** the pod's own namespace, for short names */
  namespace: string;
}

export interface ClusterTable {
  name: string;
  endpoints: readonly string[];
  /** endpoints repeated by weight for round robin */
  ring: readonly string[];
  next: number;
  routed: RoutedCluster;
}

export function buildTables(s: ProxySnapshot): RoutingTables {
  const clusters = new Map<string, ClusterTable>();
  const addCluster = (name: string, weights: Record<string, number>, egress: boolean, identities?: readonly string[]): void => {
    const endpoints = Object.keys(weights).sort();
    const ring = weightedRing(endpoints.map((ep) => [ep, Math.max(1, Math.min(100, Math.round((weights[ep] ?? 0) / 10)))]));
    clusters.set(name, { name, endpoints, ring, next: 0, routed: identities ? { name, endpoints, egress, identities } : { name, endpoints, egress } });
  };
  for (const [name, eps] of Object.entries(s.Inbound.ClustersConfigs)) addCluster(name, eps, false);
  for (const [name, cfg] of Object.entries(s.Outbound.ClustersConfigs)) {
    const weights: Record<string, number> = {};
    for (const [ep, e] of Object.entries(cfg.Endpoints)) weights[ep] = e.Weight;
    addCluster(name, weights, false, (cfg as { ServiceIdentities?: string[] }).ServiceIdentities);
  }

  const inbound = new Map<number, PortTable>();
  for (const m of Object.values(s.Inbound.TrafficMatches)) {
    const t = emptyPortTable(m.Protocol);
    addHttpRules(t, m.HttpHostPort2Service, m.HttpServiceRouteRules, m.Port, clusters);
    addTcpRules(t, m.TcpServiceRouteRules, m.Port, clusters);
    const rules = new Set(t.hosts.values());
    t.only = rules.size === 1 ? [...rules][0] : undefined;
    t.outsideClients = outsideClientRoute(m, t, clusters);
    inbound.set(m.Port, t);
  }

  const outbound = new Map<number, PortTable>();
  for (const [portKey, matches] of Object.entries(s.Outbound.TrafficMatches)) {
    const port = Number(portKey);
    const t = emptyPortTable(matches[0]?.Protocol ?? 'http');
    for (const m of matches) {
      addHttpRules(t, m.HttpHostPort2Service, m.HttpServiceRouteRules, port, clusters);
      addTcpRules(t, m.TcpServiceRouteRules, port, clusters);
    }
    outbound.set(port, t);
  }

  const dns = new Map<string, Map<number, readonly string[]>>();
  for (const [fqdn, ports] of Object.entries(s.Dns ?? {})) {
    const m = new Map<number, readonly string[]>();
    for (const [p, eps] of Object.entries(ports)) m.set(Number(p), eps);
    dns.set(fqdn, m);
  }
  return { inbound, outbound, clusters, dns, serviceIPs: new Map(Object.entries(s.ServiceIPs ?? {})), namespace: s.Pod.Namespace };
}

function emptyPortTable(protocol: PortTable['protocol']): PortTable {
  return { protocol, hosts: new Map(), only: undefined, tcp: new Map(), outsideClients: undefined };
}

/**
 * The route AccessControl gives admitted clients outside the mesh, as the service the snapshot names
 * (its plugins come along). A malformed entry gives none: such clients then meet the ordinary
 * routes, which under SMI refuse a peer without identity.
 */
function outsideClientRoute(m: InboundTrafficMatch, t: PortTable, clusters: Map<string, ClusterTable>): OutsideClientRoute | undefined {
  const route = m.AccessControlRoute;
  if (!route || typeof route.RuleName !== 'string' || typeof route.TargetClusters !== 'object' || route.TargetClusters === null) return undefined;
  const ranges: OutsideClientRoute['ranges'] = [];
  for (const [cidr, spec] of Object.entries(m.SourceIPRanges ?? {})) {
    const parsed = parseCidr(cidr);
    if (parsed) ranges.push({ cidr: parsed, plaintext: spec === null });
  }
  const { namespace } = splitRuleName(route.RuleName);
  if (t.protocol === 'tcp') {
    const known = t.tcp.get(route.RuleName);
    const tcp: TcpRule = { service: known?.service ?? { name: route.RuleName, namespace, port: m.Port }, pickCluster: weightedPicker(route.TargetClusters, clusters) };
    if (known?.plugins) tcp.plugins = known.plugins;
    return { ranges, http: undefined, tcp };
  }
  const known = [...t.hosts.values()].find((r) => r.service.name === route.RuleName);
  const service: RoutedService = known?.service ?? { name: route.RuleName, namespace, port: m.Port, RouteRules: [] };
  const wildcard: RouteRule = { Path: '.*', Type: 'Regex', TargetClusters: route.TargetClusters };
  return { ranges, http: { service, routes: [compileRoute(wildcard, clusters)] }, tcp: undefined };
}

function splitRuleName(rule: string): { name: string; namespace: string } {
  const dot = rule.lastIndexOf('.');
  return dot < 0 ? { name: rule, namespace: '' } : { name: rule.slice(0, dot), namespace: rule.slice(dot + 1) };
}

function addHttpRules(
  t: PortTable,
  hosts: Record<string, { RuleName: string }> | undefined,
  rules: Record<string, HttpServiceRule> | undefined,
  port: number,
  clusters: Map<string, ClusterTable>,
): void {
  if (!hosts || !rules) return;
  const compiled = new Map<string, CompiledServiceRule>();
  for (const [ruleName, rule] of Object.entries(rules)) {
    const { namespace } = splitRuleName(ruleName);
    const service: RoutedService = { name: ruleName, namespace, port, RouteRules: rule.RouteRules };
    if (rule.Plugins) service.Plugins = rule.Plugins;
    compiled.set(ruleName, { service, routes: rule.RouteRules.map((r) => compileRoute(r, clusters)) });
  }
  for (const [host, ref] of Object.entries(hosts)) {
    const c = compiled.get(ref.RuleName);
    if (c) t.hosts.set(host.toLowerCase(), c);
  }
}

function addTcpRules(
  t: PortTable,
  rules: Record<string, { TargetClusters: Record<string, number>; Plugins?: Record<string, unknown>; AllowedServices?: string[] }> | undefined,
  port: number,
  clusters: Map<string, ClusterTable>,
): void {
  if (!rules) return;
  for (const [ruleName, rule] of Object.entries(rules)) {
    const { namespace } = splitRuleName(ruleName);
    const entry: TcpRule = {
      service: { name: ruleName, namespace, port },
      pickCluster: weightedPicker(rule.TargetClusters, clusters),
    };
    if (rule.Plugins) entry.plugins = rule.Plugins;
    if (rule.AllowedServices) entry.allowed = rule.AllowedServices;
    t.tcp.set(ruleName, entry);
  }
}

function compileRoute(rule: RouteRule, clusters: Map<string, ClusterTable>): CompiledRoute {
  const methods = rule.Methods && rule.Methods.length > 0 && !rule.Methods.includes('*') ? new Set(rule.Methods) : undefined;
  return {
    rule,
    methods,
    matchPath: pathMatcher(rule),
    // SMI header matches are full matches (security-rules.md §7), like paths
    headers: Object.entries(rule.Headers ?? {}).map(([k, v]) => [k.toLowerCase(), new RegExp(`^(?:${v})$`)]),
    pickCluster: weightedPicker(rule.TargetClusters, clusters),
  };
}

function pathMatcher(rule: RouteRule): (path: string) => boolean {
  switch (rule.Type) {
    case 'Exact':
      return (p) => stripQuery(p) === rule.Path;
    case 'Prefix':
      return (p) => stripQuery(p).startsWith(rule.Path);
    case 'Regex': {
      if (rule.Path === '.*' || rule.Path === '') return () => true;
      // Anchored like Envoy's safe_regex: the whole path must match.
      const re = new RegExp(`^(?:${rule.Path})$`);
      return (p) => re.test(stripQuery(p));
    }
    default:
      return () => false;
  }
}

function stripQuery(p: string): string {
  const q = p.indexOf('?');
  return q < 0 ? p : p.slice(0, q);
}

/** Weighted round robin over clusters named in TargetClusters. */
function weightedPicker(targets: Record<string, number>, clusters: Map<string, ClusterTable>): () => string | undefined {
  const names = Object.keys(targets).sort();
  if (names.length === 0) return () => undefined;
  if (names.length === 1) {
    const only = names[0]!;
    return () => only;
  }
  const ring = weightedRing(names.map((n) => [n, Math.max(1, Math.round((targets[n] ?? 0) / 10))]));
  let i = 0;
  void clusters;
  return () => ring[i++ % ring.length];
}

/**
 * The order weighted round robin visits entries in, computed once per snapshot: weights reduced by
 * their gcd, then interleaved the way nginx's smooth weighted round robin does, so equal weights
 * alternate (a, b, a, b) instead of sending runs of requests to one entry.
 */
function weightedRing(entries: [string, number][]): string[] {
  if (entries.length === 0) return [];
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = entries.reduce((acc, [, w]) => gcd(acc, w), 0) || 1;
  const weights = entries.map(([, w]) => w / g);
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const ring: string[] = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best] -= total;
    ring.push(entries[best]![0]);
  }
  return ring;
}

/** Picks the next endpoint of a cluster by round robin. */
export function nextEndpoint(c: ClusterTable): string | undefined {
  if (c.ring.length === 0) return undefined;
  const ep = c.ring[c.next % c.ring.length];
  c.next = (c.next + 1) % c.ring.length;
  return ep;
}
