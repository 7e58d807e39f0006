/**
 * Istio's networking `Sidecar` (networking.istio.io/v1; v1beta1 and v1alpha3 accepted) as Tessera
 * stores it: only what scopes a proxy's outbound config, `workloadSelector.labels` and `egress[].hosts`
 * (docs/traffic-management.md "Outbound scope"). The validator refuses the other fields by name.
 */
import type { Resource } from './types.js';

export interface SidecarEgressListener {
  /**
   * `namespace/dnsName`: namespace `*` (any), `.` (the Sidecar's own) or `~` (none); dnsName `*`
   * (every service of that namespace), `*.suffix` or a service's `name.ns.svc.cluster.local`
   */
  hosts: string[];
}

export interface SidecarSpec {
  /** Istio's Sidecar selector is `labels`, not `matchLabels` */
  workloadSelector?: { labels?: Record<string, string> };
  /** absent: every service stays in scope */
  egress?: SidecarEgressListener[];
}

export type Sidecar = Resource<SidecarSpec | undefined>;

/** One parsed `egress[].hosts` entry. */
export interface SidecarHost {
  /** a namespace, `*` (any) or `~` (none); `.` is already replaced by the Sidecar's namespace */
  namespace: string;
  /** `*`, `*.suffix` or an exact name */
  dnsName: string;
}

/** Why `host` is not a valid `egress[].hosts` entry, or undefined when it is (the validator and the compiler share it). */
export function sidecarHostProblem(host: string): string | undefined {
  const slash = host.indexOf('/');
  if (slash <= 0 || slash === host.length - 1) return `${JSON.stringify(host)} must be "namespace/dnsName" (e.g. "./*", "prod/*", "*/api.prod.svc.cluster.local")`;
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (ns !== '*' && ns !== '.' && ns !== '~' && !NAMESPACE.test(ns)) return `${JSON.stringify(host)}: namespace ${JSON.stringify(ns)} must be "*", ".", "~" or a namespace name`;
  if (name === '*') return undefined;
  const rest = name.startsWith('*.') ? name.slice(2) : name;
  if (!rest.split('.').every((l) => DNS_LABEL.test(l))) {
    return `${JSON.stringify(host)}: ${JSON.stringify(name)} must be "*", a DNS name, or a DNS name with "*." as its left-most label`;
  }
  return undefined;
}

/** Parses a valid entry; `.` becomes `sidecarNamespace`. */
export function parseSidecarHost(host: string, sidecarNamespace: string): SidecarHost {
  const slash = host.indexOf('/');
  const ns = host.slice(0, slash);
  return { namespace: ns === '.' ? sidecarNamespace : ns, dnsName: host.slice(slash + 1).toLowerCase() };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;
/** Kubernetes namespace names are lower-case DNS labels. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
