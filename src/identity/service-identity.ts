/** Branded mesh identities (`sa.ns`) and the CN, SPIFFE ID and Istio principal forms derived from them. */
import { MeshError } from '../lib/errors.js';

/** `serviceaccount.namespace`, as FSM config carries it (fsm-design §2.1). Only built by the functions below. */
export type ServiceIdentity = string & { readonly __brand: 'ServiceIdentity' };
/** A SPIFFE trust domain such as `cluster.local`. */
export type TrustDomain = string & { readonly __brand: 'TrustDomain' };

export const DEFAULT_TRUST_DOMAIN = 'cluster.local' as TrustDomain;

// Kubernetes: namespaces are DNS-1123 labels; service account names are DNS-1123 subdomains,
// so they may contain dots, and the namespace never does. That is why every split below takes the
// *last* dot as the separator (FSM splits on the first two dots, which breaks on dotted names).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// SPIFFE-ID spec §2.1: a trust domain uses lower-case letters, digits, '.', '-' and '_' only.
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

function invalid(message: string): MeshError {
  return new MeshError('MESH_ERR_IDENTITY_INVALID', message);
}

export function trustDomain(text: string): TrustDomain {
  if (!TRUST_DOMAIN.test(text) || text.length > 255) throw invalid(`trust domain ${JSON.stringify(text)} is not valid (SPIFFE-ID §2.1: a-z, 0-9, '.', '-', '_')`);
  return text as TrustDomain;
}

/** The identity of pods running as `serviceAccount` in `namespace`. An empty account is `default`, as in FSM. */
export function serviceIdentity(serviceAccount: string, namespace: string): ServiceIdentity {
  const sa = serviceAccount === '' ? 'default' : serviceAccount;
  if (!DNS1123_LABEL.test(namespace) || namespace.length > 63) throw invalid(`namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  if (!DNS1123_SUBDOMAIN.test(sa) || sa.length > 253) throw invalid(`service account ${JSON.stringify(sa)} is not a DNS-1123 subdomain`);
  return `${sa}.${namespace}` as ServiceIdentity;
}

/** Parses `sa.ns` (the namespace is after the last dot). */
export function parseServiceIdentity(text: string): ServiceIdentity {
  const dot = text.lastIndexOf('.');
  if (dot <= 0) throw invalid(`service identity ${JSON.stringify(text)} is not of the form serviceaccount.namespace`);
  return serviceIdentity(text.slice(0, dot), text.slice(dot + 1));
}

export function identityParts(id: ServiceIdentity): { serviceAccount: string; namespace: string } {
  const dot = id.lastIndexOf('.');
  return { serviceAccount: id.slice(0, dot), namespace: id.slice(dot + 1) };
}

/** Certificate CN and FSM principal: `sa.ns.<trustDomain>`. */
export function identityCommonName(id: ServiceIdentity, domain: TrustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `${id}.${domain}`;
}

/** `spiffe://<trustDomain>/ns/<ns>/sa/<sa>` — the Istio/SPIFFE path layout. */
export function spiffeId(id: ServiceIdentity, domain: TrustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `spiffe://${istioPrincipal(id, domain)}`;
}

/** Istio `source.principal` form: `<trustDomain>/ns/<ns>/sa/<sa>`. */
export function istioPrincipal(id: ServiceIdentity, domain: TrustDomain = DEFAULT_TRUST_DOMAIN): string {
  const { serviceAccount, namespace } = identityParts(id);
  return `${domain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * Parses a SPIFFE ID of the mesh's trust domain, by segment (security-rules §9), into an identity.
 * Follows SPIFFE-ID §2: scheme `spiffe`, no userinfo, port, query, fragment or percent-encoding,
 * and the path is exactly `/ns/<ns>/sa/<sa>`.
 */
export function parseSpiffeId(uri: string, domain: TrustDomain = DEFAULT_TRUST_DOMAIN): ServiceIdentity {
  const prefix = 'spiffe://';
  if (uri.length > 2048 || !uri.startsWith(prefix)) throw invalid(`${JSON.stringify(uri)} is not a SPIFFE ID`);
  const rest = uri.slice(prefix.length);
  const slash = rest.indexOf('/');
  const td = slash < 0 ? rest : rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(td)) throw invalid(`SPIFFE ID ${JSON.stringify(uri)} has an invalid trust domain`);
  if (td !== domain) throw invalid(`SPIFFE ID ${JSON.stringify(uri)} belongs to trust domain ${td}, not ${domain}`);
  const segments = slash < 0 ? [] : rest.slice(slash + 1).split('/');
  if (segments.length !== 4 || segments[0] !== 'ns' || segments[2] !== 'sa' || segments.some((s) => s === '')) {
    throw invalid(`SPIFFE ID ${JSON.stringify(uri)} is not of the form spiffe://${domain}/ns/NS/sa/SA`);
  }
  // serviceIdentity() rejects '%', '?', '#', ':', '@' and empty segments, since none is in DNS-1123.
  return serviceIdentity(segments[3]!, segments[1]!);
}
