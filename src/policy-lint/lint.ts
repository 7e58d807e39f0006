/**
 * Static checks of Istio AuthorizationPolicy, RequestAuthentication and Sidecar against the mesh as it is,
 * as Kiali validates them: names that point at nothing (service accounts, namespaces, hosts,
 * workloads, a key server) and fields that need mTLS while the mesh runs plaintext. They are
 * warnings, never refusals: the object may be applied before what it names, and Istio accepts it.
 * Pure: the caller gathers the world (the API server from its store, the CLI through the API).
 */
import type { AuthorizationPolicy, AuthzRule, RequestAuthentication, WorkloadSelector } from '../api/istio-types.js';
import { parseSidecarHost, sidecarHostProblem, type Sidecar } from '../api/networking-types.js';
import type { Resource } from '../api/types.js';

export interface LintWorld {
  namespaces: ReadonlySet<string>;
  /** `ns/name` of every service account: ServiceAccount objects, the names workloads run as, and each namespace's `default` */
  serviceAccounts: ReadonlySet<string>;
  /** `ns/name` of every Service */
  services: ReadonlySet<string>;
  /** the labels of each namespace's pods and pod templates */
  workloadLabels: ReadonlyMap<string, readonly Record<string, string>[]>;
  /** MeshConfig spec.sidecar.sidecarDisabledMTLS */
  mtlsDisabled: boolean;
}

const WILDCARD = /\*/;

/** The world from the objects the store holds (any order, any kinds). */
export function lintWorldOf(objects: readonly Resource[], meshConfigSpec: { sidecar?: { sidecarDisabledMTLS?: boolean } } | undefined): LintWorld {
  const namespaces = new Set<string>();
  const serviceAccounts = new Set<string>();
  const services = new Set<string>();
  const workloadLabels = new Map<string, Record<string, string>[]>();
  const addLabels = (ns: string, labels: Record<string, string> | undefined): void => {
    workloadLabels.set(ns, [...(workloadLabels.get(ns) ?? []), labels ?? {}]);
  };
  for (const o of objects) {
    const ns = o.metadata.namespace ?? 'default';
    const spec = o.spec as { serviceAccountName?: string; template?: { metadata?: { labels?: Record<string, string> }; spec?: { serviceAccountName?: string } } } | undefined;
    switch (o.kind) {
      case 'Namespace':
        namespaces.add(o.metadata.name);
        serviceAccounts.add(`${o.metadata.name}/default`);
        break;
      case 'ServiceAccount':
        serviceAccounts.add(`${ns}/${o.metadata.name}`);
        break;
      case 'Service':
        services.add(`${ns}/${o.metadata.name}`);
        break;
      case 'Pod':
        if (spec?.serviceAccountName) serviceAccounts.add(`${ns}/${spec.serviceAccountName}`);
        addLabels(ns, o.metadata.labels);
        break;
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
        if (spec?.template?.spec?.serviceAccountName) serviceAccounts.add(`${ns}/${spec.template.spec.serviceAccountName}`);
        addLabels(ns, spec?.template?.metadata?.labels);
        break;
    }
  }
  return { namespaces, serviceAccounts, services, workloadLabels, mtlsDisabled: meshConfigSpec?.sidecar?.sidecarDisabledMTLS === true };
}

/** `<trust domain>/ns/NS/sa/SA` without wildcards: the namespace and service account it names. */
function principalParts(p: string): { ns: string; sa: string } | undefined {
  if (WILDCARD.test(p)) return undefined;
  const m = /^[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(p);
  return m ? { ns: m[1]!, sa: m[2]! } : undefined;
}

/** A host in the mesh: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local` (a port allowed); wildcards are not checked. */
function hostKnown(host: string, ns: string, world: LintWorld): boolean {
  if (WILDCARD.test(host)) return true;
  const name = host.replace(/:[0-9*]+$/, '').toLowerCase();
  const parts = name.split('.');
  if (parts.length === 1) return world.services.has(`${ns}/${parts[0]}`);
  const rest = parts.slice(2).join('.');
  // `a.b`: a service of namespace b when b is a namespace, else an external name
  if (rest === '') return !world.namespaces.has(parts[1]!) || world.services.has(`${parts[1]}/${parts[0]}`);
  if (rest === 'svc' || rest === 'svc.cluster.local') return world.services.has(`${parts[1]}/${parts[0]}`);
  // an external name (example.com): only a ServiceEntry-like registry could know it; not checked
  return true;
}

function selectsSomething(selector: WorkloadSelector | undefined, ns: string, world: LintWorld): boolean {
  const want = Object.entries(selector?.matchLabels ?? {});
  if (want.length === 0) return true;
  return (world.workloadLabels.get(ns) ?? []).some((labels) => want.every(([k, v]) => labels[k] === v));
}

const MTLS_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const;
const MTLS_KEYS = new Set(['source.principal', 'source.namespace', 'connection.sni']);

function lintRule(r: AuthzRule, where: string, ns: string, world: LintWorld, out: string[]): void {
  for (const [i, f] of (r.from ?? []).entries()) {
    const s = f.source ?? {};
    const at = `${where}.from[${i}].source`;
    for (const field of ['principals', 'notPrincipals'] as const) {
      for (const [j, p] of (s[field] ?? []).entries()) {
        const parts = principalParts(p);
        if (!parts) continue;
        if (!world.namespaces.has(parts.ns)) out.push(`${at}.${field}[${j}]: ${JSON.stringify(p)} names namespace "${parts.ns}", which does not exist`);
        else if (!world.serviceAccounts.has(`${parts.ns}/${parts.sa}`)) out.push(`${at}.${field}[${j}]: ${JSON.stringify(p)} names service account "${parts.sa}", which does not exist in namespace "${parts.ns}"`);
      }
    }
    for (const field of ['namespaces', 'notNamespaces'] as const) {
      for (const [j, n] of (s[field] ?? []).entries()) {
        if (!WILDCARD.test(n) && !world.namespaces.has(n)) out.push(`${at}.${field}[${j}]: namespace "${n}" does not exist`);
      }
    }
    if (world.mtlsDisabled) {
      const used = MTLS_FIELDS.filter((k) => s[k] !== undefined);
      if (used.length > 0) out.push(`${at}: ${used.join(', ')} need mTLS, which is off (MeshConfig spec.sidecar.sidecarDisabledMTLS): no request carries a peer identity, so ${used.length > 1 ? 'they match' : 'it matches'} no caller`);
    }
  }
  for (const [i, t] of (r.to ?? []).entries()) {
    for (const field of ['hosts', 'notHosts'] as const) {
      for (const [j, h] of (t.operation?.[field] ?? []).entries()) {
        if (!hostKnown(h, ns, world)) out.push(`${where}.to[${i}].operation.${field}[${j}]: host ${JSON.stringify(h)} is not a service in the mesh`);
      }
    }
  }
  for (const [i, c] of (r.when ?? []).entries()) {
    if (world.mtlsDisabled && MTLS_KEYS.has(c.key)) out.push(`${where}.when[${i}]: ${c.key} needs mTLS, which is off (MeshConfig spec.sidecar.sidecarDisabledMTLS)`);
  }
}

export function lintAuthorizationPolicy(p: AuthorizationPolicy, world: LintWorld): string[] {
  const ns = p.metadata.namespace ?? 'default';
  const out: string[] = [];
  if (!selectsSomething(p.spec?.selector, ns, world)) out.push(`spec.selector: no workload in namespace "${ns}" has labels ${JSON.stringify(p.spec?.selector?.matchLabels)}`);
  for (const [i, r] of (p.spec?.rules ?? []).entries()) if (r && typeof r === 'object') lintRule(r, `spec.rules[${i}]`, ns, world, out);
  return out.map((w) => `AuthorizationPolicy ${ns}/${p.metadata.name}: ${w}`);
}

export function lintRequestAuthentication(ra: RequestAuthentication, world: LintWorld): string[] {
  const ns = ra.metadata.namespace ?? 'default';
  const out: string[] = [];
  if (!selectsSomething(ra.spec?.selector, ns, world)) out.push(`spec.selector: no workload in namespace "${ns}" has labels ${JSON.stringify(ra.spec?.selector?.matchLabels)}`);
  for (const [i, r] of (ra.spec?.jwtRules ?? []).entries()) {
    if (r.jwks !== undefined || !r.jwksUri) continue;
    let host: string;
    try {
      host = new URL(r.jwksUri).host;
    } catch {
      continue;
    }
    if (!hostKnown(host, ns, world)) out.push(`spec.jwtRules[${i}].jwksUri: host ${JSON.stringify(host)} is not a service in the mesh: the keys cannot be fetched`);
  }
  return out.map((w) => `RequestAuthentication ${ns}/${ra.metadata.name}: ${w}`);
}

/**
 * A networking Sidecar's egress hosts that name nothing (a missing namespace, an FQDN no Service
 * has, a name that is no Service's FQDN) leave that destination outside the workloads' scope, and a
 * selector no workload matches applies to nobody.
 */
export function lintSidecar(sc: Sidecar, world: LintWorld): string[] {
  const ns = sc.metadata.namespace ?? 'default';
  const out: string[] = [];
  const labels = sc.spec?.workloadSelector?.labels;
  if (!selectsSomething(labels ? { matchLabels: labels } : undefined, ns, world)) out.push(`spec.workloadSelector: no workload in namespace "${ns}" has labels ${JSON.stringify(labels)}`);
  for (const [i, l] of (sc.spec?.egress ?? []).entries()) {
    for (const [j, raw] of (l?.hosts ?? []).entries()) {
      if (typeof raw !== 'string' || sidecarHostProblem(raw) !== undefined) continue;
      const h = parseSidecarHost(raw, ns);
      const at = `spec.egress[${i}].hosts[${j}]`;
      if (h.namespace === '*' || h.namespace === '~') continue;
      if (!world.namespaces.has(h.namespace)) {
        out.push(`${at}: ${JSON.stringify(raw)} names namespace "${h.namespace}", which does not exist`);
        continue;
      }
      if (h.dnsName.startsWith('*')) continue;
      const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(h.dnsName);
      if (!m) out.push(`${at}: ${JSON.stringify(raw)}: "${h.dnsName}" is not a Service's name.namespace.svc.cluster.local, so it names nothing`);
      else if (m[2] !== h.namespace || !world.services.has(`${m[2]}/${m[1]}`)) out.push(`${at}: ${JSON.stringify(raw)} names no Service: that destination stays outside the scope`);
    }
  }
  return out.map((w) => `Sidecar ${ns}/${sc.metadata.name}: ${w}`);
}

/** Warnings for an Istio security policy or networking Sidecar; none for other kinds. */
export function lintPolicy(r: Resource, world: LintWorld): string[] {
  if (r.kind === 'AuthorizationPolicy') return lintAuthorizationPolicy(r as AuthorizationPolicy, world);
  if (r.kind === 'RequestAuthentication') return lintRequestAuthentication(r as RequestAuthentication, world);
  if (r.kind === 'Sidecar') return lintSidecar(r as Sidecar, world);
  return [];
}
