/** Request-time lookups over RoutingTables: authority parsing, host match, route match, DNS. */
import { cidrContains } from '../../lib/cidr.js';
import type { HeaderMap } from '../http/types.js';
import type { CompiledRoute, CompiledServiceRule, OutsideClientRoute, PortTable, RoutingTables } from './tables.js';

export interface Authority {
  host: string;
  port: number | undefined;
}

/** Splits `host[:port]` (and `[v6]:port`); lower-cases and drops a trailing dot. */
export function parseAuthority(authority: string): Authority {
  let host = authority.trim().toLowerCase();
  let port: number | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    const rest = host.slice(end + 1);
    if (rest.startsWith(':')) port = Number(rest.slice(1));
    host = host.slice(0, end + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      port = Number(host.slice(colon + 1));
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) port = undefined;
  return { host, port };
}

/** The service rule a Host selects on a port table, trying `host:port` then `host`. */
export function findServiceRule(t: PortTable, a: Authority, port: number): CompiledServiceRule | undefined {
  return t.hosts.get(`${a.host}:${port}`) ?? t.hosts.get(a.host);
}

/** The route a request takes, or `denied` when routes match but none lets `identity` in. */
export type RouteChoice = CompiledRoute | 'denied' | undefined;

/**
 * The first route matching method, path and headers whose AllowedServices (if any) lists the
 * caller. With SMI a request is allowed when ANY matching route lists the caller's identity
 * (FSM keys its route tree by identity), so a matching route that does not list the caller must not
 * hide a later one that does. Pass `identity: null` to ignore AllowedServices (outbound); `undefined`
 * is a peer without identity, which no AllowedServices lists. No default: a default parameter would
 * turn an explicit `undefined` into `null` and let plaintext peers past SMI.
 */
export function findRoute(rule: CompiledServiceRule, method: string, path: string, headers: HeaderMap, identity: string | undefined | null): RouteChoice {
  let denied = false;
  for (const r of rule.routes) {
    if (r.methods && !r.methods.has(method)) continue;
    if (!r.matchPath(path)) continue;
    let ok = true;
    for (const [name, re] of r.headers) {
      const v = headers[name];
      if (v === undefined || !re.test(Array.isArray(v) ? v.join(', ') : v)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const allowed = r.rule.AllowedServices;
    if (identity !== null && allowed && !(identity !== undefined && allowed.includes(identity))) {
      denied = true;
      continue;
    }
    return r;
  }
  return denied ? 'denied' : undefined;
}

/**
 * The AccessControl route a peer takes, or undefined when it is not a client outside the mesh that
 * the port's SourceIPRanges admit. A peer with a mesh identity never takes it (SMI decides). The
 * socket address is checked again under the current snapshot: with mTLS on, the connection was
 * admitted when accepted (plaintext range, or an AccessCert certificate from an mTLS range), perhaps
 * under an older snapshot; with mTLS off nothing checked it, so only plaintext ranges count.
 */
export function outsideClientRoute(t: PortTable, source: { address: string; identity: string | undefined }, mtls: boolean): OutsideClientRoute | undefined {
  const route = t.outsideClients;
  if (!route || source.identity !== undefined) return undefined;
  return route.ranges.some((r) => (mtls || r.plaintext) && cidrContains(r.cidr, source.address)) ? route : undefined;
}

/**
 * Resolves a name the way cluster DNS would for a pod in `t.namespace`: `svc`, `svc.ns`,
 * `svc.ns.svc`, `svc.ns.svc.cluster.local`; or a Service's cluster IP, as its Service rules would
 * (an intercepted app dialed the address). Returns the endpoints for `port` or undefined.
 */
export function resolveService(t: RoutingTables, host: string, port: number): { fqdn: string; endpoints: readonly string[] } | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  const candidates: string[] = [];
  const byAddress = t.serviceIPs.get(h.replace(/^\[|\]$/g, ''));
  if (byAddress) candidates.push(byAddress);
  else if (h.endsWith('.svc.cluster.local')) candidates.push(h);
  else if (h.endsWith('.svc.cluster')) candidates.push(`${h}.local`);
  else if (h.endsWith('.svc')) candidates.push(`${h}.cluster.local`);
  else {
    const dots = h.split('.').length - 1;
    if (dots === 1) candidates.push(`${h}.svc.cluster.local`);
    if (dots === 0) candidates.push(`${h}.${t.namespace}.svc.cluster.local`);
  }
  for (const fqdn of candidates) {
    const eps = t.dns.get(fqdn)?.get(port);
    if (eps) return { fqdn, endpoints: eps };
  }
  return undefined;
}
