/** Discovery documents: `/api`, `/apis`, `/apis/<group>`, and one APIResourceList per group/version. */
import { createHash } from 'node:crypto';
import { storageVersion, type ResourceRegistry, type ResourceType } from '../registry/index.js';

interface SubresourceInfo {
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
}

const SUBRESOURCES: Record<string, SubresourceInfo> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { kind: '', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
  token: { kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' },
  finalize: { kind: 'Namespace', verbs: ['update'] },
};

function proxyKind(t: ResourceType): string {
  return t.kind === 'Pod' ? 'PodProxyOptions' : t.kind === 'Service' ? 'ServiceProxyOptions' : `${t.kind}ProxyOptions`;
}

/**
 * kube-apiserver's storageVersionHash: the first 8 bytes of SHA-256 over `group/version/kind` of the
 * storage version, base64 with padding (e.g. "qFsyl6wFWjQ=" for configmaps), so clients can notice
 * a changed storage version.
 */
export function storageVersionHash(t: ResourceType): string {
  return createHash('sha256').update(`${t.group}/${storageVersion(t)}/${t.kind}`).digest().subarray(0, 8).toString('base64');
}

/** The order kube-apiserver lists a custom resource's verbs in (built-in kinds' are sorted). */
const CUSTOM_VERB_ORDER = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

export function discoveryVerbs(t: ResourceType): string[] {
  if (t.builtIn) return t.verbs;
  const rank = (v: string): number => {
    const i = CUSTOM_VERB_ORDER.indexOf(v);
    return i < 0 ? CUSTOM_VERB_ORDER.length : i;
  };
  return [...t.verbs].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(name: string, versions: string[]): object {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(registry: ResourceRegistry): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((g) => groupEntry(g.name, g.versions)) };
}

export function apiGroup(registry: ResourceRegistry, group: string): object | undefined {
  const g = registry.groups().find((x) => x.name === group);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.name, g.versions) };
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const resources: object[] = [];
  for (const t of types) {
    const entry: Record<string, unknown> = {
      name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: discoveryVerbs(t),
      storageVersionHash: storageVersionHash(t),
    };
    if (t.shortNames.length > 0) entry.shortNames = t.shortNames;
    if (t.categories.length > 0) entry.categories = t.categories;
    resources.push(entry);
    const served = t.versions.find((v) => v.name === version);
    const subs = t.builtIn ? t.subresources : served?.subresources ?? [];
    for (const sub of subs) {
      const info = SUBRESOURCES[sub];
      if (!info) continue;
      const s: Record<string, unknown> = {
        name: `${t.plural}/${sub}`, singularName: '', namespaced: t.namespaced,
        kind: sub === 'proxy' ? proxyKind(t) : info.kind || t.kind, verbs: info.verbs,
      };
      if (info.group !== undefined) s.group = info.group;
      if (info.version !== undefined) s.version = info.version;
      resources.push(s);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}
