/**
 * Resolves SMI TrafficTargets against their HTTPRouteGroup / TCPRoute / UDPRoute rules once per
 * catalog, indexed by destination and by source identity (security-rules.md §7, fsm-design.md §2.5).
 */
import type { HTTPRouteGroup, HttpMatch, PortRouteSpec, TrafficTarget, TrafficTargetRule } from '../api/smi-types.js';
import type { Resource } from '../api/types.js';
import { byString, keyOf } from './pods.js';
import type { ResolvedTrafficTarget, SmiHttpMatch, SmiPolicy, SmiPorts } from './types.js';

/** FSM's service identity `sa.ns` of an SMI ServiceAccount subject. */
export function smiIdentity(name: string, namespace: string): string {
  return `${name}.${namespace}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function subjectIdentity(subject: unknown, fallbackNamespace?: string): string | undefined {
  if (!isObject(subject) || subject['kind'] !== 'ServiceAccount' || typeof subject['name'] !== 'string' || !subject['name']) return undefined;
  const ns = typeof subject['namespace'] === 'string' && subject['namespace'] ? subject['namespace'] : fallbackNamespace;
  return ns ? smiIdentity(subject['name'], ns) : undefined;
}

/**
 * One HTTPRouteGroup match as a route shape: a missing pathRegex is `.*` and missing methods or `*`
 * mean any method (fsm-design.md §1.5). Header names are lower-cased for the sidecar; two names that
 * differ only in case with different regexes cannot both be expressed, so such a match grants nothing.
 */
function toHttpMatch(m: HttpMatch): SmiHttpMatch | undefined {
  const out: SmiHttpMatch = { path: typeof m.pathRegex === 'string' && m.pathRegex !== '' ? m.pathRegex : '.*' };
  const methods: string[] = Array.isArray(m.methods) ? (m.methods as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  if (methods.length > 0 && !methods.includes('*')) out.methods = [...new Set(methods.map((x) => x.toUpperCase()))].sort(byString);
  if (isObject(m.headers)) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.headers).sort((a, b) => byString(a[0], b[0]))) {
      if (typeof v !== 'string') return undefined;
      const name = k.toLowerCase();
      if (name in headers && headers[name] !== v) return undefined;
      headers[name] = v;
    }
    if (Object.keys(headers).length > 0) out.headers = headers;
  }
  return out;
}

/** The ports a TCPRoute/UDPRoute names: an absent or empty list means every port (security-rules.md §7). */
function routePorts(route: Resource<PortRouteSpec> | undefined): SmiPorts {
  if (!route) return []; // a rule naming a missing route grants nothing (fail closed)
  const ports = route.spec?.matches?.ports;
  if (!Array.isArray(ports) || ports.length === 0) return 'all';
  return ports.filter((p) => Number.isInteger(p) && p >= 1 && p <= 65535);
}

function unionPorts(a: SmiPorts | undefined, b: SmiPorts): SmiPorts {
  if (a === 'all' || b === 'all') return 'all';
  return [...new Set([...(a ?? []), ...b])].sort((x, y) => x - y);
}

interface RouteIndex {
  http: Map<string, HTTPRouteGroup>;
  tcp: Map<string, Resource<PortRouteSpec>>;
  udp: Map<string, Resource<PortRouteSpec>>;
}

/**
 * A rule's HTTPRouteGroup matches: those it names, or all when it names none (SMI: OR over matches).
 * A name the group lacks, or a missing group, adds nothing.
 */
function ruleHttpMatches(rule: TrafficTargetRule, group: HTTPRouteGroup | undefined): SmiHttpMatch[] {
  const all = Array.isArray(group?.spec?.matches) ? group.spec.matches.filter(isObject) : [];
  const picked = Array.isArray(rule.matches) ? all.filter((m) => rule.matches!.includes(m.name)) : all;
  return picked.map(toHttpMatch).filter((m): m is SmiHttpMatch => m !== undefined);
}

/**
 * Resolves one TrafficTarget, or undefined when it grants nothing. One whose namespace differs from
 * its destination's is ignored even if it got into the store: FSM's webhook refuses it, and only the
 * destination namespace's owners may grant access to it.
 */
function resolveTarget(tt: TrafficTarget, routes: RouteIndex): ResolvedTrafficTarget | undefined {
  const ns = tt.metadata.namespace ?? 'default';
  const spec = tt.spec;
  if (!isObject(spec) || !Array.isArray(spec.sources) || !Array.isArray(spec.rules)) return undefined;
  const dest = spec.destination as unknown;
  if (isObject(dest) && typeof dest['namespace'] === 'string' && dest['namespace'] !== '' && dest['namespace'] !== ns) return undefined;
  const destination = subjectIdentity(dest, ns);
  if (!destination) return undefined;
  const sources = [...new Set(spec.sources.map((s) => subjectIdentity(s)).filter((s): s is string => s !== undefined))].sort(byString);
  if (sources.length === 0) return undefined;
  const out: ResolvedTrafficTarget = { key: keyOf(ns, tt.metadata.name), destination, sources };
  for (const rule of spec.rules) {
    if (!isObject(rule) || typeof rule.name !== 'string') continue;
    // Route specs are looked up in the TrafficTarget's namespace (fsm-design.md §2.5).
    const key = keyOf(ns, rule.name);
    if (rule.kind === 'HTTPRouteGroup') out.http = [...(out.http ?? []), ...ruleHttpMatches(rule, routes.http.get(key))];
    else if (rule.kind === 'TCPRoute') out.tcpPorts = unionPorts(out.tcpPorts, routePorts(routes.tcp.get(key)));
    else if (rule.kind === 'UDPRoute') out.udpPorts = unionPorts(out.udpPorts, routePorts(routes.udp.get(key)));
  }
  return out;
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Builds the SMI index from every resource of the store revision; the result depends on nothing else. */
export function buildSmiPolicy(resources: readonly Resource[]): SmiPolicy {
  const routes: RouteIndex = { http: new Map(), tcp: new Map(), udp: new Map() };
  const targets: TrafficTarget[] = [];
  for (const r of resources) {
    const key = keyOf(r.metadata.namespace ?? 'default', r.metadata.name);
    if (r.kind === 'TrafficTarget') targets.push(r as TrafficTarget);
    else if (r.kind === 'HTTPRouteGroup') routes.http.set(key, r as HTTPRouteGroup);
    else if (r.kind === 'TCPRoute') routes.tcp.set(key, r as Resource<PortRouteSpec>);
    else if (r.kind === 'UDPRoute') routes.udp.set(key, r as Resource<PortRouteSpec>);
  }
  const byDestination = new Map<string, ResolvedTrafficTarget[]>();
  const bySource = new Map<string, ResolvedTrafficTarget[]>();
  const resolved = targets.map((tt) => resolveTarget(tt, routes)).filter((t): t is ResolvedTrafficTarget => t !== undefined);
  for (const t of resolved.sort((a, b) => byString(a.key, b.key))) {
    push(byDestination, t.destination, t);
    for (const s of t.sources) push(bySource, s, t);
  }
  return { byDestination, bySource };
}
