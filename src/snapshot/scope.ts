/**
 * The outbound scope of one proxy: which Services its Outbound and Dns sections carry, as Istio's
 * `Sidecar` resource scopes a proxy's config. Two inputs narrow it, and both apply when both are set:
 *
 * - SMI (permissive traffic mode off): the mesh services backed by an identity some TrafficTarget lets
 *   this proxy's identity reach (smi-outbound.ts `reachableIdentities`). Services outside the mesh are
 *   not SMI's to grant and stay.
 * - The networking Sidecar that applies to the pod (`sidecarFor`): only Services some `egress[].hosts`
 *   entry names, meshed or not.
 *
 * A destination outside the scope is unknown to the sidecar, which refuses it (a name cluster DNS
 * would own, or a cluster IP `ServiceIPs` still maps) rather than sending it out as egress.
 * Undefined scope: permissive mode and no Sidecar, every Service is in.
 *
 * Everything here is memoized per catalog by what decides it (the identity, the Sidecar), so a proxy
 * pays for its own scope, not for the size of the mesh.
 */
import type { Sidecar, SidecarHost } from '../api/networking-types.js';
import { parseSidecarHost, sidecarHostProblem } from '../api/networking-types.js';
import type { Pod } from '../api/types.js';
import { keyOf, podNamespace } from '../catalog/pods.js';
import type { Catalog, ServiceInfo } from '../catalog/types.js';
import { backingIdentities, reachableIdentities } from './smi-outbound.js';
import type { OutboundScopeMarker } from './types.js';

export interface OutboundScope {
  /** what decided the scope, for section cache keys: equal keys, equal scopes */
  key: string;
  /** every Service in scope, meshed or not, in catalog order */
  services: readonly ServiceInfo[];
  /** the meshed ones, in catalog order */
  meshServices: readonly ServiceInfo[];
  /** the snapshot's `Outbound.Scope` */
  marker: OutboundScopeMarker;
}

interface Memo {
  order: Map<ServiceInfo, number>;
  byIdentity: Map<string, ServiceInfo[]>;
  outsideMesh: ServiceInfo[];
  sidecarServices: Map<string, Set<ServiceInfo> | undefined>;
  scopes: Map<string, OutboundScope>;
}

const memos = new WeakMap<Catalog, Memo>();

function memoOf(catalog: Catalog): Memo {
  let m = memos.get(catalog);
  if (m) return m;
  const order = new Map<ServiceInfo, number>();
  catalog.services.forEach((s, i) => order.set(s, i));
  const byIdentity = new Map<string, ServiceInfo[]>();
  for (const svc of catalog.meshServices) {
    for (const id of backingIdentities(catalog, svc)) {
      const list = byIdentity.get(id);
      if (list) list.push(svc);
      else byIdentity.set(id, [svc]);
    }
  }
  m = { order, byIdentity, outsideMesh: catalog.services.filter((s) => !s.meshed), sidecarServices: new Map(), scopes: new Map() };
  memos.set(catalog, m);
  return m;
}

const selectorLabels = (s: Sidecar): Record<string, string> => s.spec?.workloadSelector?.labels ?? {};
const namespaceOf = (s: Sidecar): string => s.metadata.namespace ?? 'default';

/**
 * The Sidecar that applies to the pod, as Istio picks it: one in the pod's namespace whose
 * `workloadSelector.labels` match the pod, else the one of its namespace without a selector, else
 * the selector-less one of the root namespace (`<mesh>-system`). Istio leaves two candidates at one
 * level undefined; here the first by name wins (the catalog sorts), and the root namespace's
 * selected Sidecars apply only to the root namespace's own pods.
 */
export function sidecarFor(catalog: Catalog, pod: Pod): Sidecar | undefined {
  if (catalog.istio.sidecars.length === 0) return undefined;
  const byNamespace = sidecarsByNamespace(catalog);
  const ns = podNamespace(pod);
  const labels = pod.metadata.labels ?? {};
  const own = byNamespace.get(ns) ?? [];
  const selects = (s: Sidecar): boolean => {
    const want = Object.entries(selectorLabels(s));
    return want.length > 0 && want.every(([k, v]) => labels[k] === v);
  };
  const namespaceWide = (s: Sidecar): boolean => Object.keys(selectorLabels(s)).length === 0;
  return own.find(selects) ?? own.find(namespaceWide) ?? byNamespace.get(`${catalog.meshName}-system`)?.find(namespaceWide);
}

const sidecarIndex = new WeakMap<Catalog, Map<string, Sidecar[]>>();

/** The catalog's Sidecars by namespace, in catalog order (by name), built once per catalog. */
function sidecarsByNamespace(catalog: Catalog): Map<string, Sidecar[]> {
  let index = sidecarIndex.get(catalog);
  if (index) return index;
  index = new Map();
  for (const s of catalog.istio.sidecars) {
    const list = index.get(namespaceOf(s));
    if (list) list.push(s);
    else index.set(namespaceOf(s), [s]);
  }
  sidecarIndex.set(catalog, index);
  return index;
}

/** True when one parsed `egress[].hosts` entry names the Service. */
export function hostSelects(h: SidecarHost, svc: ServiceInfo): boolean {
  if (h.namespace === '~' || (h.namespace !== '*' && h.namespace !== svc.namespace)) return false;
  if (h.dnsName === '*') return true;
  const fqdn = `${svc.name}.${svc.namespace}.svc.cluster.local`;
  return h.dnsName.startsWith('*.') ? fqdn.endsWith(h.dnsName.slice(1)) : fqdn === h.dnsName;
}

/** The Services a Sidecar's egress hosts name; undefined when it has no egress list (no restriction). */
function sidecarServices(catalog: Catalog, memo: Memo, sidecar: Sidecar): Set<ServiceInfo> | undefined {
  const key = keyOf(namespaceOf(sidecar), sidecar.metadata.name);
  if (memo.sidecarServices.has(key)) return memo.sidecarServices.get(key);
  const egress = sidecar.spec?.egress;
  let out: Set<ServiceInfo> | undefined;
  if (egress !== undefined) {
    // an entry the validator would refuse (stored some other way) names nothing: fail closed
    const hosts = egress.flatMap((l) => l.hosts ?? []).filter((h) => typeof h === 'string' && sidecarHostProblem(h) === undefined).map((h) => parseSidecarHost(h, namespaceOf(sidecar)));
    out = new Set(catalog.services.filter((svc) => hosts.some((h) => hostSelects(h, svc))));
  }
  memo.sidecarServices.set(key, out);
  return out;
}

/** The proxy's outbound scope, or undefined when nothing narrows it. */
export function outboundScope(catalog: Catalog, pod: Pod, identity: string): OutboundScope | undefined {
  const smi = !catalog.meshConfig.enablePermissiveTrafficPolicyMode;
  const sidecar = sidecarFor(catalog, pod);
  const sidecarName = sidecar ? keyOf(namespaceOf(sidecar), sidecar.metadata.name) : undefined;
  if (!smi && sidecar === undefined) return undefined;
  const memo = memoOf(catalog);
  const named = sidecar ? sidecarServices(catalog, memo, sidecar) : undefined;
  // a Sidecar without an egress list restricts nothing (and still wins over its namespace's)
  if (!smi && named === undefined) return undefined;
  const key = [smi ? `smi:${identity}` : '', named !== undefined ? `sidecar:${sidecarName}` : ''].join('\u0000');
  const cached = memo.scopes.get(key);
  if (cached) return cached;
  let candidates: Iterable<ServiceInfo>;
  if (smi) {
    const reached = new Set<ServiceInfo>();
    for (const id of reachableIdentities(catalog, identity)) for (const svc of memo.byIdentity.get(id) ?? []) reached.add(svc);
    candidates = [...reached, ...memo.outsideMesh];
  } else candidates = named ?? catalog.services;
  const services = [...candidates].filter((s) => named === undefined || named.has(s)).sort((a, b) => memo.order.get(a)! - memo.order.get(b)!);
  const marker: OutboundScopeMarker = { ...(named !== undefined ? { Sidecar: sidecarName! } : {}), ...(smi ? { TrafficTargets: true as const } : {}) };
  const scope: OutboundScope = { key, services, meshServices: services.filter((s) => s.meshed), marker };
  memo.scopes.set(key, scope);
  return scope;
}
