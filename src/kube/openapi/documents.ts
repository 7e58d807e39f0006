/**
 * The documents kube-apiserver serves at /openapi/v2 (Swagger 2.0, every served kind) and at
 * /openapi/v3 (a root listing one document per group/version, each an OpenAPI 3.0 document).
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceType } from '../registry/types.js';
import { commonDefinitions } from './common.js';
import { kindDefinition, listDefinition } from './convert.js';
import { typeDefinitionName } from './names.js';
import { pathsOf } from './paths.js';

export interface OpenApiV2Options {
  /** the server's version (`v1.33.0-tessera`), published as info.version */
  gitVersion: string;
}

type Doc = Record<string, unknown>;

const SECURITY_V2 = { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } };

/** Each served version of each type, in a stable order. */
function served(types: readonly ResourceType[]): [ResourceType, string][] {
  const out: [ResourceType, string][] = [];
  for (const t of types) for (const v of t.versions) out.push([t, v.name]);
  return out.sort(([a, av], [b, bv]) => apiVersionOf(a.group, av).localeCompare(apiVersionOf(b.group, bv)) || a.kind.localeCompare(b.kind));
}

export function openApiV2(types: readonly ResourceType[], opts: OpenApiV2Options): Doc {
  const definitions: Record<string, unknown> = { ...commonDefinitions('v2') };
  const paths: Record<string, unknown> = {};
  for (const [t, v] of served(types)) {
    definitions[typeDefinitionName(t, v)] = kindDefinition(t, v, 'v2');
    definitions[typeDefinitionName(t, v, t.listKind)] = listDefinition(t, v, 'v2');
    Object.assign(paths, pathsOf(t, v, 'v2'));
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: opts.gitVersion },
    paths: sortKeys(paths),
    definitions: sortKeys(definitions),
    securityDefinitions: SECURITY_V2,
    security: [{ BearerToken: [] }],
  };
}

/** `api/v1`, `apis/apps/v1`: the key of a group/version in the v3 root and its URL below /openapi/v3/. */
export const v3PathOf = (group: string, version: string) => (group === '' ? `api/${version}` : `apis/${group}/${version}`);

/** The OpenAPI v3 document of one group/version, or undefined when no type serves it. */
export function openApiV3GroupVersion(types: readonly ResourceType[], group: string, version: string, opts: Partial<OpenApiV2Options> = {}): Doc | undefined {
  const members = served(types).filter(([t, v]) => t.group === group && v === version);
  if (members.length === 0) return undefined;
  const schemas: Record<string, unknown> = { ...commonDefinitions('v3') };
  const paths: Record<string, unknown> = {};
  for (const [t, v] of members) {
    schemas[typeDefinitionName(t, v)] = kindDefinition(t, v, 'v3');
    schemas[typeDefinitionName(t, v, t.listKind)] = listDefinition(t, v, 'v3');
    Object.assign(paths, pathsOf(t, v, 'v3'));
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: opts.gitVersion ?? 'unversioned' },
    paths: sortKeys(paths),
    components: {
      schemas: sortKeys(schemas),
      securitySchemes: SECURITY_V2,
    },
    security: [{ BearerToken: [] }],
  };
}

/**
 * The /openapi/v3 root: `{ paths: { "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=…" } } }`.
 * The hash is the group/version document's digest; clients cache by it, so it must change with the
 * document (the handler may answer a matching hash with immutable caching, as the apiserver does).
 */
export function openApiV3Root(types: readonly ResourceType[], opts: Partial<OpenApiV2Options> = {}): { paths: Record<string, { serverRelativeURL: string }> } {
  const gvs = new Map<string, [string, string]>();
  for (const [t, v] of served(types)) gvs.set(v3PathOf(t.group, v), [t.group, v]);
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, [g, v]] of [...gvs].sort(([a], [b]) => a.localeCompare(b))) {
    const doc = openApiV3GroupVersion(types, g, v, opts)!;
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${documentHash(doc)}` };
  }
  return { paths };
}

/** Upper-case hex SHA-512 of a document's JSON, the form of the apiserver's `hash` parameter. */
export function documentHash(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
