/**
 * Which kinds exist, for listing and for resolving owner references: the registry's types plus the
 * types of stored CRDs. Reading CRDs ourselves means a controller started (or an event handled)
 * before the server's registry caught up with a new CRD still sees its kind.
 */
import type { Resource } from '../../api/types.js';
import type { KubeStorage } from '../apiserver/index.js';
import { typeFromCrd, type CrdObject, type ResourceRegistry } from '../registry/index.js';
import { CRD_GROUP, CRD_KIND } from './objects.js';

export interface KindRef {
  group: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export function kindOfCrd(crd: Resource): KindRef | undefined {
  const t = typeFromCrd(crd as unknown as CrdObject);
  if (t) return { group: t.group, kind: t.kind, plural: t.plural, namespaced: t.namespaced };
  // A CRD that serves no version can still have stored objects (served was turned off later).
  const spec = (crd as unknown as CrdObject).spec;
  if (!spec?.group || !spec.names?.kind) return undefined;
  return { group: spec.group, kind: spec.names.kind, plural: spec.names.plural ?? `${spec.names.kind.toLowerCase()}s`, namespaced: spec.scope !== 'Cluster' };
}

/** Every kind to list: registered types first, then CRD kinds the registry does not have (yet). */
export function allKinds(storage: KubeStorage, registry: ResourceRegistry): KindRef[] {
  const out = new Map<string, KindRef>();
  for (const t of registry.all()) out.set(kindKey(t.group, t.kind), { group: t.group, kind: t.kind, plural: t.plural, namespaced: t.namespaced });
  for (const crd of storage.list(CRD_GROUP, CRD_KIND).items) {
    const k = kindOfCrd(crd);
    if (k && !out.has(kindKey(k.group, k.kind))) out.set(kindKey(k.group, k.kind), k);
  }
  return [...out.values()];
}

export function kindKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

/** Resolves a group/kind against the registry, then against CRD kinds a controller tracks (by `kindKey`). */
export function resolveKind(registry: ResourceRegistry, crdKinds: ReadonlyMap<string, KindRef>, group: string, kind: string): KindRef | undefined {
  const t = registry.byGroupKind(group, kind);
  if (t) return { group: t.group, kind: t.kind, plural: t.plural, namespaced: t.namespaced };
  return crdKinds.get(kindKey(group, kind));
}
