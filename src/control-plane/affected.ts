/**
 * Which proxies a batch of changes can affect beyond their shared sections.
 *
 * A proxy's snapshot has two kinds of sections: its own (Spec, Pod, Inbound, Chains, Metrics,
 * AccessLog …), compiled from its pod and the objects that select or target it, and the shared ones
 * (Outbound, AllowedEndpoints, Dns, ServiceIPs), built once per catalog and looked up by keys the
 * proxy keeps (snapshot/compile.ts `sharedSections`). After a change every proxy takes the new
 * catalog's shared sections, which is a lookup; only the proxies named here are compiled again.
 *
 *   Pod            its own proxy (in SMI mode every proxy: Inbound's IdentityByIP lists every pod)
 *   Service        the proxies of the pods it selects, before and after (their Inbound)
 *   Pod, Service   also the proxies of every namespace holding an AccessControl with a Service
 *                  source: its Inbound admits that Service's endpoint addresses
 *   AccessControl, AuthorizationPolicy, RequestAuthentication, Telemetry, TrafficTarget,
 *   HTTPRouteGroup, TCPRoute
 *                  the proxies of its namespace; of every namespace when it is in the root
 *                  namespace (`<mesh>-system`), whose policies apply mesh-wide
 *   anything else  every proxy: MeshConfig, Namespace labels and plugins reach every proxy, a Retry
 *                  changes its source's Outbound key, and a kind not listed here is not known to be
 *                  narrower. Over-approximating costs CPU, under-approximating would leave a proxy
 *                  stale, so when unsure this says "all".
 * Pure: the catalogs before and after, the changed objects in, pod keys (`ns/name`) out.
 */
import type { Resource } from '../api/types.js';
import type { Catalog, ServiceInfo } from '../snapshot/index.js';

export interface ObjectChange {
  before?: Resource;
  after?: Resource;
}

const NAMESPACED_POLICIES = new Set(['AccessControl', 'AuthorizationPolicy', 'RequestAuthentication', 'Telemetry', 'TrafficTarget', 'HTTPRouteGroup', 'TCPRoute']);

/** Kinds the compiler never reads (a change to them recomputes nothing). */
const NOT_COMPILED = new Set(['ServiceAccount', 'Event', 'Lease', 'Secret', 'ConfigMap']);

export function affectedProxies(before: Catalog | undefined, after: Catalog, changes: Iterable<ObjectChange>): 'all' | Set<string> {
  if (!before) return 'all';
  const out = new Set<string>();
  let servicesBefore: Map<string, ServiceInfo> | undefined;
  let servicesAfter: Map<string, ServiceInfo> | undefined;
  const root = `${after.meshName}-system`;
  let aclNamespaces: Set<string> | undefined;
  for (const c of changes) {
    const o = c.after ?? c.before;
    if (!o) continue;
    const ns = o.metadata.namespace ?? '';
    const key = `${ns}/${o.metadata.name}`;
    if (NOT_COMPILED.has(o.kind)) continue;
    if (o.kind === 'Pod' || o.kind === 'Service') {
      aclNamespaces ??= new Set([...serviceSourceAclNamespaces(before), ...serviceSourceAclNamespaces(after)]);
      if (aclNamespaces.size > 0) for (const p of [...before.proxies, ...after.proxies]) if (aclNamespaces.has(p.namespace)) out.add(`${p.namespace}/${p.name}`);
    }
    if (o.kind === 'Pod') {
      if (!before.meshConfig.enablePermissiveTrafficPolicyMode || !after.meshConfig.enablePermissiveTrafficPolicyMode) return 'all';
      out.add(key);
    } else if (o.kind === 'Service') {
      servicesBefore ??= byKey(before.services);
      servicesAfter ??= byKey(after.services);
      for (const s of [servicesBefore.get(key), servicesAfter.get(key)]) for (const p of s?.selectedPods ?? []) out.add(p);
    } else if (NAMESPACED_POLICIES.has(o.kind) && ns !== '' && ns !== root) {
      for (const p of [...before.proxies, ...after.proxies]) if (p.namespace === ns) out.add(`${p.namespace}/${p.name}`);
    } else return 'all';
  }
  return out;
}

function byKey(services: readonly ServiceInfo[]): Map<string, ServiceInfo> {
  return new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
}

/** Namespaces of the AccessControls that name a Service as a source (their backends admit its endpoints). */
function serviceSourceAclNamespaces(c: Catalog): string[] {
  return c.accessControls.filter((a) => (a.spec?.sources ?? []).some((s) => s.kind === 'Service')).map((a) => a.metadata.namespace ?? '');
}
