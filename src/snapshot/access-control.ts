/**
 * Inbound `SourceIPRanges` from AccessControls (fsm-design.md §1.4, §2.2): which clients outside the
 * mesh may reach one service port of this proxy, and whether they must prove a principal over mTLS.
 */
import { isIP } from 'node:net';
import type { AccessControl, AccessControlBackend, AccessControlSource } from '../api/policy-types.js';
import { accessControlBackends as backendsOf, accessControlSources as sourcesOf, readyEndpointIPs } from '../catalog/access-control.js';
import { byString } from '../catalog/pods.js';
import type { Catalog, ServiceInfo } from '../catalog/types.js';
import { parseCidr } from '../lib/cidr.js';
import type { InboundTrafficMatch, SourceIPRanges, SourceSecuritySpec } from './types.js';

/** A backend-less, TLS backend whose sources name no address admits by certificate from anywhere. */
const ANY_ADDRESS = ['0.0.0.0/0', '::/0'];

/** The `/32` (or `/128`) of every ready endpoint of a Service, sorted. */
function serviceEndpointRanges(catalog: Catalog, namespace: string, name: string): string[] {
  return readyEndpointIPs(catalog, namespace, name).map((ip) => `${ip}/${isIP(ip) === 6 ? 128 : 32}`);
}

/** Address ranges of the Service and IPRange sources; undefined when the ACL names none of either kind. */
function addressRanges(catalog: Catalog, sources: AccessControlSource[]): string[] | undefined {
  if (!sources.some((s) => s.kind === 'Service' || s.kind === 'IPRange')) return undefined;
  const out: string[] = [];
  for (const s of sources) {
    if (s.kind === 'Service' && s.namespace) out.push(...serviceEndpointRanges(catalog, s.namespace, s.name));
    else if (s.kind === 'IPRange' && parseCidr(s.name)) out.push(s.name);
  }
  return out;
}

/**
 * The ranges of a strict-form (backend) ACL. A backend with `tls` makes its ranges mTLS: the client
 * must hold a mesh-CA certificate (an AccessCert) whose CN or a SAN is one of the principals, or any
 * with `skipClientCertValidation` (`*`). FSM also adds `*` to every `http` backend; Tessera does
 * not, since over mTLS the certificate IS verified and `*` would let any AccessCert holder in.
 */
function strictRanges(catalog: Catalog, acl: AccessControl, backend: AccessControlBackend): SourceIPRanges {
  const sources = sourcesOf(acl);
  const out: SourceIPRanges = {};
  if (!backend.tls) {
    for (const cidr of addressRanges(catalog, sources) ?? []) out[cidr] = null;
    return out;
  }
  const principals = new Set(sources.filter((s) => s.kind === 'AuthenticatedPrincipal').map((s) => s.name));
  if (backend.tls.skipClientCertValidation) principals.add('*');
  const spec: SourceSecuritySpec = {
    mTLS: true,
    SkipClientCertValidation: backend.tls.skipClientCertValidation === true,
    AuthenticatedPrincipals: [...principals].sort(byString),
  };
  for (const cidr of addressRanges(catalog, sources) ?? ANY_ADDRESS) out[cidr] = { ...spec, AuthenticatedPrincipals: [...spec.AuthenticatedPrincipals] };
  return out;
}

/** The global form: plaintext from the Service and IPRange sources only. */
function globalRanges(catalog: Catalog, acl: AccessControl): SourceIPRanges {
  const out: SourceIPRanges = {};
  for (const cidr of addressRanges(catalog, sourcesOf(acl)) ?? []) out[cidr] = null;
  return out;
}

/**
 * FSM's selection for one service port listening on `targetPort`: an ACL in the service's namespace
 * with a backend naming the service and this targetPort (first by name); failing that, the first
 * backend-less ACL of any namespace (by namespace, then name). FSM builds the global match on the
 * service port; Tessera keys inbound matches by targetPort, so it lands where the sidecar listens.
 * Undefined when no ACL applies.
 */
export function accessControlRanges(catalog: Catalog, svc: ServiceInfo, targetPort: number): SourceIPRanges | undefined {
  for (const acl of catalog.accessControls) {
    if (acl.metadata.namespace !== svc.namespace) continue;
    const backend = backendsOf(acl).find((b) => b.name === svc.name && b.port.number === targetPort);
    if (backend) return strictRanges(catalog, acl, backend);
  }
  const global = catalog.accessControls.find((acl) => backendsOf(acl).length === 0);
  return global ? globalRanges(catalog, global) : undefined;
}

/**
 * Adds `ranges` to a match's map. Services sharing a targetPort share the match; the first service
 * (catalog order) to name a CIDR decides its security, as the first decides the match's protocol.
 */
function mergeRanges(into: SourceIPRanges, ranges: SourceIPRanges): void {
  for (const [cidr, spec] of Object.entries(ranges)) if (!(cidr in into)) into[cidr] = spec;
}

/**
 * Lets the clients of `ranges` in on `match` as the service `rule`: adds the ranges and, when this
 * is the first service on the port that admits anyone, sets the port's AccessControlRoute to the
 * service's local cluster. FSM does the same with a `*` host rule whose wildcard route names no
 * identity, so admitted clients reach the backend whatever SMI allows; admission itself stays the
 * socket's business (SourceIPRanges). Returns true when it set the route: the caller then gives the
 * cluster a ClustersConfigs entry, which with SMI only routed clusters get.
 */
export function admitOutsideClients(match: InboundTrafficMatch, ranges: SourceIPRanges, service: { rule: string; cluster: string }): boolean {
  mergeRanges((match.SourceIPRanges ??= {}), ranges);
  if (match.AccessControlRoute || Object.keys(ranges).length === 0) return false;
  match.AccessControlRoute = { RuleName: service.rule, TargetClusters: { [service.cluster]: 100 } };
  return true;
}
