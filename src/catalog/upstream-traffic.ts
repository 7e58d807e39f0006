/** Indexes UpstreamTrafficSettings by the service their `host` names, as FSM looks them up. */
import type { UpstreamTrafficSetting } from '../api/upstream-traffic-types.js';
import type { Resource } from '../api/types.js';
import { byString, keyOf } from './pods.js';

/**
 * `ns/svc` → the setting for that service. `host` is `svc`, `svc.ns` or `svc.ns.svc.cluster.local`
 * in the setting's own namespace (validation refuses another namespace). FSM's webhook refuses a
 * second setting for one host; objects that got in another way are ordered by name and the first wins.
 */
export function indexUpstreamTrafficSettings(resources: readonly Resource[]): ReadonlyMap<string, UpstreamTrafficSetting> {
  const list = resources.filter((r): r is UpstreamTrafficSetting => r.kind === 'UpstreamTrafficSetting');
  list.sort((a, b) => byString(keyOf(a.metadata.namespace ?? 'default', a.metadata.name), keyOf(b.metadata.namespace ?? 'default', b.metadata.name)));
  const out = new Map<string, UpstreamTrafficSetting>();
  for (const uts of list) {
    const ns = uts.metadata.namespace ?? 'default';
    const [svc, hostNs] = (uts.spec?.host ?? '').split('.');
    if (!svc || (hostNs !== undefined && hostNs !== ns)) continue;
    const key = keyOf(ns, svc);
    if (!out.has(key)) out.set(key, uts);
  }
  return out;
}
