/**
 * `ResourceRegistry`: the server's view of which types exist. Built-in and mesh types are fixed;
 * user CustomResourceDefinitions come and go as their objects are created and deleted, and the
 * registry is rebuilt from them (one CRD changes one entry, never the whole table).
 */
import { builtinResourceTypes } from './builtin.js';
import { apiVersionOf, type JSONSchemaProps, type PrinterColumn, type ResourceType, type ServedVersion } from './types.js';

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** The fields of a CustomResourceDefinition the registry reads. */
export interface CrdObject {
  metadata: { name: string };
  spec?: {
    group?: string;
    scope?: string;
    names?: { kind?: string; listKind?: string; plural?: string; singular?: string; shortNames?: string[]; categories?: string[] };
    versions?: {
      name?: string; served?: boolean; storage?: boolean; deprecated?: boolean;
      schema?: { openAPIV3Schema?: JSONSchemaProps };
      additionalPrinterColumns?: PrinterColumn[];
      subresources?: { status?: unknown; scale?: unknown };
    }[];
  };
}

const CRD_CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The type a CRD declares, or undefined when it serves nothing (no served version). */
export function typeFromCrd(crd: CrdObject): ResourceType | undefined {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (!spec.group || !names.kind || !names.plural) return undefined;
  const versions: ServedVersion[] = [];
  for (const v of spec.versions ?? []) {
    if (!v.name || v.served === false) continue;
    const sub: string[] = [];
    if (v.subresources?.status !== undefined) sub.push('status');
    if (v.subresources?.scale !== undefined) sub.push('scale');
    const served: ServedVersion = { name: v.name, storage: v.storage === true, subresources: sub };
    if (v.schema?.openAPIV3Schema) served.schema = v.schema.openAPIV3Schema;
    if (v.additionalPrinterColumns) served.printerColumns = v.additionalPrinterColumns;
    if (v.deprecated) served.deprecated = true;
    versions.push(served);
  }
  if (versions.length === 0) return undefined;
  // Discovery lists the storage version first, as the preferred one.
  versions.sort((a, b) => Number(b.storage) - Number(a.storage));
  const subresources = [...new Set(versions.flatMap((v) => v.subresources ?? []))];
  return {
    group: spec.group, kind: names.kind, listKind: names.listKind ?? `${names.kind}List`, plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(), shortNames: names.shortNames ?? [], categories: names.categories ?? [],
    namespaced: spec.scope !== 'Cluster', verbs: CRD_CRUD, subresources, builtIn: false, versions,
  };
}

export class ResourceRegistry {
  private readonly fixed: ResourceType[];
  private readonly custom = new Map<string, ResourceType>();
  private byResource = new Map<string, ResourceType>();
  private byKind = new Map<string, ResourceType>();
  /** bumped whenever the set of types changes, so derived documents (OpenAPI) know to rebuild */
  generation = 0;

  constructor(fixed: ResourceType[] = builtinResourceTypes()) {
    this.fixed = fixed;
    this.reindex();
  }

  /** Adds or replaces the type of one CRD (keyed by the CRD's name, `plural.group`). */
  putCrd(crd: CrdObject): void {
    const t = typeFromCrd(crd);
    // A user CRD may not shadow a type compiled into the server.
    if (t && this.fixed.some((f) => f.group === t.group && f.plural === t.plural)) return;
    if (t) this.custom.set(crd.metadata.name, t);
    else this.custom.delete(crd.metadata.name);
    this.reindex();
  }

  removeCrd(name: string): void {
    if (this.custom.delete(name)) this.reindex();
  }

  all(): ResourceType[] {
    return [...this.fixed, ...this.custom.values()];
  }

  /** The type served at group/version/resource, or undefined (404). */
  lookup(gvr: GroupVersionResource): ResourceType | undefined {
    const t = this.byResource.get(`${gvr.group}/${gvr.resource}`);
    return t && t.versions.some((v) => v.name === gvr.version) ? t : undefined;
  }

  /** The type of an object's apiVersion and kind, when that version is served. */
  forObject(apiVersion: string, kind: string): ResourceType | undefined {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const t = this.byKind.get(`${group}/${kind}`);
    return t && t.versions.some((v) => v.name === version) ? t : undefined;
  }

  byGroupKind(group: string, kind: string): ResourceType | undefined {
    return this.byKind.get(`${group}/${kind}`);
  }

  /** Every group with its served versions, preferred first. */
  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const t of this.all()) {
      if (t.group === '') continue;
      const list = out.get(t.group) ?? [];
      for (const v of t.versions) if (!list.includes(v.name)) list.push(v.name);
      out.set(t.group, list);
    }
    return [...out].map(([name, versions]) => ({ name, versions: sortVersions(versions) }));
  }

  /** Types served in one group/version. */
  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.versions.some((v) => v.name === version));
  }

  private reindex(): void {
    const byResource = new Map<string, ResourceType>();
    const byKind = new Map<string, ResourceType>();
    for (const t of this.all()) {
      byResource.set(`${t.group}/${t.plural}`, t);
      byKind.set(`${t.group}/${t.kind}`, t);
    }
    this.byResource = byResource;
    this.byKind = byKind;
    this.generation++;
  }
}

/** The storage version of a type (its first entry). */
export function storageVersion(t: ResourceType): string {
  return (t.versions.find((v) => v.storage) ?? t.versions[0]!).name;
}

export function storageApiVersion(t: ResourceType): string {
  return apiVersionOf(t.group, storageVersion(t));
}

const VERSION_RE = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Kubernetes' version priority: GA before beta before alpha, higher numbers first, then anything
 * that does not look like a Kubernetes version, alphabetically.
 */
export function compareVersions(a: string, b: string): number {
  const ma = a.match(VERSION_RE);
  const mb = b.match(VERSION_RE);
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a.localeCompare(b);
  const rank = (m: RegExpMatchArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  return rank(mb) - rank(ma) || Number(mb[1]) - Number(ma[1]) || Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

function sortVersions(versions: string[]): string[] {
  return [...versions].sort(compareVersions);
}
