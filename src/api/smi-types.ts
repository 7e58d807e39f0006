/**
 * SMI resource shapes (smi-spec access v1alpha3, specs v1alpha4) as Tessera stores them after
 * validation (security-rules.md §7, fsm-design.md §1.5).
 */
import type { Resource } from './types.js';

export type SmiRouteKind = 'HTTPRouteGroup' | 'TCPRoute' | 'UDPRoute';

/** A service identity reference; only `ServiceAccount` exists in v1alpha3. */
export interface IdentityBindingSubject {
  kind: 'ServiceAccount';
  name: string;
  /** required on sources; on the destination it defaults to the TrafficTarget's namespace */
  namespace?: string;
}

export interface TrafficTargetRule {
  kind: SmiRouteKind;
  name: string;
  /** names of HTTPRouteGroup matches; absent means every match of the group */
  matches?: string[];
}

export interface TrafficTargetSpec {
  destination: IdentityBindingSubject;
  sources: IdentityBindingSubject[];
  rules: TrafficTargetRule[];
}
export type TrafficTarget = Resource<TrafficTargetSpec>;

export const HTTP_ROUTE_METHODS = ['*', 'GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export type HttpRouteMethod = (typeof HTTP_ROUTE_METHODS)[number];

export interface HttpMatch {
  name: string;
  /** full-match regex on the path without the query; absent means `.*` */
  pathRegex?: string;
  /** absent or containing `*` means any method */
  methods?: HttpRouteMethod[];
  /** header name → value regex; all must match (AND) */
  headers?: Record<string, string>;
}

export interface HTTPRouteGroupSpec {
  matches: HttpMatch[];
}
export type HTTPRouteGroup = Resource<HTTPRouteGroupSpec>;

/** TCPRoute and UDPRoute: `matches.ports` absent or empty means every port of the destination. */
export interface PortRouteSpec {
  matches?: { name?: string; ports?: number[] };
}
export type TCPRoute = Resource<PortRouteSpec>;
export type UDPRoute = Resource<PortRouteSpec>;
