/**
 * Where an outbound request or connection goes when no mesh service's rule names it: a Service
 * without sidecars (what cluster DNS would answer), else, with egress on, the destination itself
 * (an external host, or the address a transparently intercepted app dialed: a cluster IP the pod's
 * Service rules translate once the sidecar dials it, or a pod IP). A name cluster DNS would own but
 * does not know is a miss whatever egress says, so a typo never leaves the cluster.
 */
import { isIP } from 'node:net';
import type { RoutedCluster, RouteMiss } from '../chain/types.js';
import { resolveService } from '../routing/index.js';
import type { ProxySnapshot } from '../../snapshot/types.js';
import type { ModuleEnv } from './env.js';

export function outsideMeshCluster(env: ModuleEnv, host: string, port: number): RoutedCluster | RouteMiss {
  const resolved = resolveService(env.tables, host, port);
  if (resolved) return { name: `${resolved.fqdn}|${port}`, endpoints: resolved.endpoints, egress: true };
  // a Service's cluster IP whose name Dns lacks: a Service outside this proxy's outbound scope
  // (ServiceIPs is never scoped), refused rather than dialed as an external address
  const named = env.tables.serviceIPs.get(host);
  if (named !== undefined && !env.tables.dns.has(named)) return 'unknown-host';
  if (looksLikeClusterName(host, env.namespaces)) return 'unknown-host';
  if (!env.snapshot.Spec.Traffic.EnableEgress) return 'denied';
  const endpoint = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { name: `egress|${host}:${port}`, endpoints: [endpoint], egress: true };
}

/** Names cluster DNS would own: single labels, `*.svc[.cluster[.local]]`, and `name.<known namespace>`. */
function looksLikeClusterName(host: string, namespaces: ReadonlySet<string>): boolean {
  if (isIP(host.replace(/^\[|\]$/g, ''))) return false;
  if (!host.includes('.')) return true;
  if (/\.svc(\.cluster(\.local)?)?$/.test(host)) return true;
  const parts = host.split('.');
  return parts.length === 2 && namespaces.has(parts[1]!);
}

/**
 * What a refusal of an unknown destination adds when the snapshot is scoped (Outbound.Scope): the
 * destination may exist but lie outside what this proxy was given, and this says what decided that.
 */
export function outboundScopeNote(snapshot: ProxySnapshot): string {
  const scope = snapshot.Outbound.Scope;
  if (!scope) return '';
  const by = [
    ...(scope.Sidecar ? [`the egress hosts of Sidecar ${scope.Sidecar}`] : []),
    ...(scope.TrafficTargets ? ['the SMI TrafficTargets of this identity'] : []),
  ];
  return by.length > 0 ? ` in this proxy's outbound scope (${by.join(' and ')})` : '';
}
