/**
 * What a sidecar decides from a compiled Inbound section, as types.ts documents it: a request is
 * allowed when any route matching it lists the caller; a TCP connection when the rule lists it; a UDP
 * datagram when its sender's pod address maps to an identity UdpAllowed lists for the port; a client
 * outside the mesh when a plaintext range admits its address and the AccessControlRoute leads to a
 * configured cluster.
 */
import { cidrContains, parseCidr } from '../../lib/cidr.js';
import type { ProxySnapshot, RouteRule } from '../types.js';

type Inbound = ProxySnapshot['Inbound'];

function routeMatches(r: RouteRule, method: string, path: string, headers: Record<string, string>): boolean {
  if (r.Methods && !r.Methods.includes(method)) return false;
  if (r.Type !== 'Regex' || !new RegExp(`^(?:${r.Path})$`).test(path.split('?')[0]!)) return false;
  return Object.entries(r.Headers ?? {}).every(([k, v]) => headers[k] !== undefined && new RegExp(`^(?:${v})$`).test(headers[k]!));
}

export interface HttpRequest {
  port: number;
  host: string;
  method: string;
  path: string;
  /** the caller's identity `sa.ns` */
  from: string;
  headers?: Record<string, string>;
}

export function httpAllowed(inbound: Inbound, req: HttpRequest): boolean {
  const match = inbound.TrafficMatches[String(req.port)];
  const rule = match?.HttpHostPort2Service?.[req.host]?.RuleName;
  const routes = rule ? (match?.HttpServiceRouteRules?.[rule]?.RouteRules ?? []) : [];
  return routes.some(
    (r) =>
      routeMatches(r, req.method, req.path, req.headers ?? {}) &&
      (r.AllowedServices === undefined || r.AllowedServices.includes(req.from)) &&
      Object.keys(r.TargetClusters).length > 0,
  );
}

export function tcpAllowed(inbound: Inbound, port: number, rule: string, from: string): boolean {
  const r = inbound.TrafficMatches[String(port)]?.TcpServiceRouteRules?.[rule];
  if (!r || Object.keys(r.TargetClusters).length === 0) return false;
  return r.AllowedServices === undefined || r.AllowedServices.includes(from);
}

export function udpAllowed(inbound: Inbound, port: number, senderIP: string): boolean {
  const identity = inbound.IdentityByIP?.[senderIP];
  return identity !== undefined && (inbound.UdpAllowed?.[String(port)] ?? []).includes(identity);
}

/** A plaintext client outside the mesh (no identity) at `address` reaches the app on `port`, HTTP or TCP alike. */
export function outsideClientAllowed(inbound: Inbound, port: number, address: string): boolean {
  const match = inbound.TrafficMatches[String(port)];
  const route = match?.AccessControlRoute;
  if (!match || !route) return false;
  const admitted = Object.entries(match.SourceIPRanges ?? {}).some(([cidr, spec]) => {
    const parsed = parseCidr(cidr);
    return spec === null && parsed !== undefined && cidrContains(parsed, address);
  });
  return admitted && Object.keys(route.TargetClusters).some((c) => inbound.ClustersConfigs[c] !== undefined);
}
