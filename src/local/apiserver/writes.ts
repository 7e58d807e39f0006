/** apply, patch, rollout restart and delete: validated, admitted, then one store transaction. */
import { kindInfo, type KindInfo } from '../../api/kinds.js';
import type { Deployment, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ApplyResult, ManifestDocument } from '../api-contract.js';
import { RESTARTED_AT_ANNOTATION } from '../controllers/index.js';
import { notFoundMessage, type StoreKey, type StoreWrite } from '../store/index.js';
import { admit, keepServerDefaults } from './admission.js';
import type { ApiContext } from './context.js';
import { keyFor, resolveKind } from './kind-names.js';
import { mergePatch } from './merge-patch.js';

function resultOf(obj: Resource, action: ApplyResult['action']): ApplyResult {
  const r: ApplyResult = { kind: obj.kind, name: obj.metadata.name, action };
  if (obj.metadata.namespace !== undefined) r.namespace = obj.metadata.namespace;
  return r;
}

/** Validates every document, admits the whole batch, then stores it in one transaction: all or none. */
export async function applyDocuments(ctx: ApiContext, docs: ManifestDocument[], namespace?: string): Promise<ApplyResult[]> {
  const resources = ctx.checks.validate(docs, namespace);
  await admit(ctx, resources);
  const writes: StoreWrite[] = resources.map((r) => ({
    op: 'put',
    object: keepServerDefaults(r, ctx.store.get({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })),
  }));
  return ctx.store.transact(writes).map(({ object, change }) => resultOf(object, change === 'deleted' ? 'configured' : change));
}

/** The object as a user would have written it: no server-owned metadata, no status. */
function userView(obj: Resource): Record<string, unknown> {
  const { uid: _u, resourceVersion: _rv, generation: _g, creationTimestamp: _c, ...metadata } = obj.metadata;
  const { status: _s, ...rest } = obj;
  return { ...rest, metadata };
}

function getOrThrow(ctx: ApiContext, key: StoreKey): Resource {
  const obj = ctx.store.get(key);
  if (!obj) throw new MeshError('MESH_ERR_NOT_FOUND', notFoundMessage(key));
  return obj;
}

export async function patchResource(ctx: ApiContext, kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<ApplyResult> {
  const info = resolveKind(kind);
  const key = keyFor(info, name, namespace);
  const existing = getOrThrow(ctx, key);
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new MeshError('MESH_ERR_USAGE', 'a merge patch must be a JSON object');
  }
  const patched = mergePatch(userView(existing), patch) as Resource;
  if (patched.kind !== existing.kind || patched.metadata?.name !== name || patched.metadata.namespace !== existing.metadata.namespace) {
    throw new MeshError('MESH_ERR_MANIFEST_INVALID', `${info.kind} "${name}": kind, metadata.name and metadata.namespace cannot be patched`);
  }
  const doc: ManifestDocument = { source: `patch of ${info.plural}/${name}`, index: 1, line: 1, object: patched as unknown as Record<string, unknown> };
  const [validated] = ctx.checks.validate([doc], key.namespace);
  await admit(ctx, [validated!]);
  const [r] = ctx.store.transact([{ op: 'put', object: validated! }]);
  return resultOf(r!.object, r!.change === 'unchanged' ? 'unchanged' : 'patched');
}

export function rolloutRestart(ctx: ApiContext, kind: string, name: string, namespace: string): ApplyResult {
  const info = resolveKind(kind);
  if (info.kind !== 'Deployment') {
    throw new MeshError('MESH_ERR_USAGE', `rollout restart is supported for deployments only, not ${info.plural}`);
  }
  const d = getOrThrow(ctx, keyFor(info, name, namespace)) as Deployment;
  const template = d.spec!.template;
  // A new timestamp changes the template hash, which makes the deployment controller roll every pod.
  template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [RESTARTED_AT_ANNOTATION]: new Date().toISOString() } };
  const [r] = ctx.store.transact([{ op: 'put', object: d }]);
  return resultOf(r!.object, 'patched');
}

function protectedNamespace(info: KindInfo, name: string): void {
  if (info.kind === 'Namespace' && name === 'default') {
    throw new MeshError('MESH_ERR_FORBIDDEN', 'namespaces "default" is forbidden: this namespace may not be deleted');
  }
}

export function deleteOne(ctx: ApiContext, kind: string, name: string, namespace: string | undefined, ignoreNotFound = false): ApplyResult {
  const info = resolveKind(kind);
  protectedNamespace(info, name);
  const key = keyFor(info, name, namespace);
  if (!ctx.store.get(key)) {
    if (ignoreNotFound) return { kind: info.kind, name, ...(key.namespace ? { namespace: key.namespace } : {}), action: 'unchanged' };
    throw new MeshError('MESH_ERR_NOT_FOUND', notFoundMessage(key));
  }
  const [r] = ctx.store.transact([{ op: 'delete', key }]);
  return resultOf(r!.object, 'deleted');
}

/**
 * Deletes what the documents name, all or none. Documents are only read for kind, name and
 * namespace (a manifest that no longer validates can still be deleted). Missing objects are an
 * error listing all of them, or skipped with ignoreNotFound.
 */
export function deleteDocuments(ctx: ApiContext, docs: ManifestDocument[], namespace?: string, ignoreNotFound = false): ApplyResult[] {
  const keys: StoreKey[] = [];
  const missing: StoreKey[] = [];
  for (const doc of docs) {
    const where = `document ${doc.index} of ${doc.source}`;
    const kind = typeof doc.object.kind === 'string' ? doc.object.kind : '';
    const info = kindInfo(kind);
    if (!info) throw new MeshError('MESH_ERR_KIND_UNKNOWN', `${where}: unknown kind "${kind}"`);
    const meta = (doc.object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    if (typeof meta.name !== 'string' || !meta.name) {
      throw new MeshError('MESH_ERR_MANIFEST_INVALID', `${where}: metadata.name is required`);
    }
    protectedNamespace(info, meta.name);
    const key = keyFor(info, meta.name, typeof meta.namespace === 'string' ? meta.namespace : namespace);
    if (keys.some((k) => k.kind === key.kind && k.namespace === key.namespace && k.name === key.name)) continue;
    if (ctx.store.get(key)) keys.push(key);
    else missing.push(key);
  }
  if (missing.length > 0 && !ignoreNotFound) {
    const problems = missing.map((k) => ({ resource: `${k.kind} ${k.namespace ? `${k.namespace}/` : ''}${k.name}`, field: '', message: notFoundMessage(k) }));
    throw new MeshError('MESH_ERR_NOT_FOUND', problems.map((p) => p.message).join('; '), { problems });
  }
  return ctx.store.transact(keys.map((key) => ({ op: 'delete', key }))).map(({ object }) => resultOf(object, 'deleted'));
}
