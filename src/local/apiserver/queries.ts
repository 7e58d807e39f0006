/** get and list, with kubectl's label selectors and namespace defaults. */
import { parseSelectorString, selectorMatches } from '../../api/labels.js';
import type { LabelSelector, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ListQuery } from '../api-contract.js';
import { notFoundMessage } from '../store/index.js';
import type { ApiContext } from './context.js';
import { keyFor, resolveKind } from './kind-names.js';

export function getResource(ctx: ApiContext, kind: string, name: string, namespace?: string): Resource {
  const key = keyFor(resolveKind(kind), name, namespace);
  const obj = ctx.store.get(key);
  if (!obj) throw new MeshError('MESH_ERR_NOT_FOUND', notFoundMessage(key));
  return obj;
}

export function parseSelector(text: string | undefined): LabelSelector | undefined {
  if (!text) return undefined;
  try {
    return parseSelectorString(text);
  } catch (e) {
    throw new MeshError('MESH_ERR_USAGE', `invalid label selector "${text}": ${(e as Error).message}`);
  }
}

/** Lists like kubectl: namespaced kinds in one namespace (default `default`) unless allNamespaces. */
export function listResources(ctx: ApiContext, query: ListQuery): Resource[] {
  const info = resolveKind(query.kind);
  const selector = parseSelector(query.labelSelector);
  const namespace = !info.namespaced || query.allNamespaces ? undefined : query.namespace || 'default';
  return ctx.store
    .list(info.kind, namespace)
    .filter((r) => (query.name === undefined || r.metadata.name === query.name) && selectorMatches(selector, r.metadata.labels));
}
