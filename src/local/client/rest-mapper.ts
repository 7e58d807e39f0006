/**
 * What kubectl calls a RESTMapper: from the server's discovery documents, which resource serves an
 * apiVersion/kind, and which kind a user means by `po`, `pods`, `pluginchain.plugin.flomesh.io`.
 * Discovery is read once per client; a miss re-reads it (a CRD may just have been created). The core
 * types every API server serves at a fixed version are known without it (kubectl reads them from
 * its discovery cache): `get pods` costs one request, not one per API group.
 */
import { MeshError } from '../../lib/errors.js';

export interface Mapping {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
}

const stable = (group: string, kind: string, plural: string, namespaced: boolean, shortNames: string[] = []): Mapping =>
  ({ group, version: 'v1', kind, plural, singular: kind.toLowerCase(), namespaced, shortNames });

/** Served by every Kubernetes API server (and Tessera's) at these versions since Kubernetes 1.9. */
const STABLE: readonly Mapping[] = [
  stable('', 'Pod', 'pods', true, ['po']),
  stable('', 'Service', 'services', true, ['svc']),
  stable('', 'Namespace', 'namespaces', false, ['ns']),
  stable('', 'ConfigMap', 'configmaps', true, ['cm']),
  stable('', 'Secret', 'secrets', true),
  stable('', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  stable('', 'Endpoints', 'endpoints', true, ['ep']),
  stable('', 'Event', 'events', true, ['ev']),
  stable('apps', 'Deployment', 'deployments', true, ['deploy']),
];

interface ResourceListDoc {
  groupVersion: string;
  resources: { name: string; singularName?: string; namespaced: boolean; kind: string; shortNames?: string[] }[];
}

export type GetJson = (path: string) => Promise<unknown>;

export class RestMapper {
  private mappings: Mapping[] | undefined;
  private loading: Promise<Mapping[]> | undefined;

  constructor(private readonly getJson: GetJson) {}

  private async load(): Promise<Mapping[]> {
    const groupVersions: { gv: string; preferred: boolean }[] = [];
    const core = (await this.getJson('/api')) as { versions?: string[] };
    for (const v of core.versions ?? []) groupVersions.push({ gv: v, preferred: true });
    const groups = (await this.getJson('/apis')) as { groups?: { versions: { groupVersion: string }[]; preferredVersion?: { groupVersion: string } }[] };
    for (const g of groups.groups ?? []) {
      for (const v of g.versions) groupVersions.push({ gv: v.groupVersion, preferred: v.groupVersion === g.preferredVersion?.groupVersion });
    }
    // Preferred versions first, so a name resolves to the version kubectl would pick.
    groupVersions.sort((a, b) => Number(b.preferred) - Number(a.preferred));
    const docs = await Promise.all(groupVersions.map(({ gv }) => this.getJson(gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`) as Promise<ResourceListDoc>));
    const out: Mapping[] = [];
    for (const doc of docs) {
      const [group, version] = doc.groupVersion.includes('/') ? doc.groupVersion.split('/') as [string, string] : ['', doc.groupVersion];
      for (const r of doc.resources) {
        if (r.name.includes('/')) continue;
        out.push({ group, version, kind: r.kind, plural: r.name, singular: r.singularName || r.kind.toLowerCase(), namespaced: r.namespaced, shortNames: r.shortNames ?? [] });
      }
    }
    return out;
  }

  private async all(refresh = false): Promise<Mapping[]> {
    if (refresh || !this.mappings) {
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      this.mappings = await this.loading;
    }
    return this.mappings;
  }

  /** The resource serving `apiVersion`/`kind`, or MESH_ERR_KIND_UNKNOWN worded as kubectl words it. */
  async forObject(apiVersion: string, kind: string): Promise<Mapping> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion];
    const find = (list: readonly Mapping[]) => list.find((m) => m.group === group && m.version === version && m.kind === kind);
    const hit = find(STABLE) ?? find(await this.all()) ?? find(await this.all(true));
    if (!hit) throw new MeshError('MESH_ERR_KIND_UNKNOWN', `no matches for kind "${kind}" in version "${apiVersion}"`);
    return hit;
  }

  /** What a user typed for a type: plural, singular, short name, Kind, or `name.group`. */
  async forName(name: string): Promise<Mapping> {
    const lower = name.toLowerCase();
    const find = (list: readonly Mapping[]): Mapping | undefined => {
      const direct = list.find((m) => m.plural === lower || m.singular === lower || m.kind.toLowerCase() === lower || m.shortNames.includes(lower));
      if (direct) return direct;
      const dot = lower.indexOf('.');
      if (dot < 0) return undefined;
      const [res, group] = [lower.slice(0, dot), lower.slice(dot + 1)];
      return list.find((m) => (m.plural === res || m.singular === res || m.kind.toLowerCase() === res) && (m.group === group || `${m.version}.${m.group}` === group));
    };
    const hit = find(STABLE) ?? find(await this.all()) ?? find(await this.all(true));
    if (!hit) throw new MeshError('MESH_ERR_KIND_UNKNOWN', `the server doesn't have a resource type "${name}"`);
    return hit;
  }
}

export function collectionPath(m: Mapping, namespace: string | undefined): string {
  const base = m.group === '' ? `/api/${m.version}` : `/apis/${m.group}/${m.version}`;
  return m.namespaced && namespace !== undefined ? `${base}/namespaces/${encodeURIComponent(namespace)}/${m.plural}` : `${base}/${m.plural}`;
}

export function objectPath(m: Mapping, namespace: string | undefined, name: string): string {
  return `${collectionPath(m, m.namespaced ? namespace ?? 'default' : undefined)}/${encodeURIComponent(name)}`;
}
