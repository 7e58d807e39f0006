/**
 * What the compiler and the status controller both read from an AccessControl (fsm-design.md §1.4):
 * its well-formed sources and backends, and the ready endpoints a Service source stands for.
 */
import type { AccessControl, AccessControlBackend, AccessControlSource } from '../api/policy-types.js';
import { byString } from './pods.js';
import type { Catalog, ServiceInfo } from './types.js';

/** Sources with a name; validation guarantees them, a hand-edited store may not. */
export function accessControlSources(acl: AccessControl): AccessControlSource[] {
  const sources = acl.spec?.sources;
  return Array.isArray(sources) ? sources.filter((s) => s && typeof s.name === 'string' && s.name !== '') : [];
}

/** Backends with a name and a port number. */
export function accessControlBackends(acl: AccessControl): AccessControlBackend[] {
  const backends = acl.spec?.backends;
  return Array.isArray(backends) ? backends.filter((b) => b && typeof b.name === 'string' && typeof b.port?.number === 'number') : [];
}

export function findService(catalog: Catalog, namespace: string, name: string): ServiceInfo | undefined {
  return catalog.services.find((s) => s.namespace === namespace && s.name === name);
}

/** The addresses of the ready endpoints of a Service (any port), sorted; empty when it does not exist. */
export function readyEndpointIPs(catalog: Catalog, namespace: string, name: string): string[] {
  const ips = new Set<string>();
  for (const p of findService(catalog, namespace, name)?.ports ?? []) for (const ep of p.endpoints) ips.add(ep.ip);
  return [...ips].sort(byString);
}
