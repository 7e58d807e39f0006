/**
 * Warnings on apply of AuthorizationPolicy, RequestAuthentication and Sidecar (src/policy-lint), from the
 * store as it is: kubectl and `tessera apply` print them; the object is stored all the same.
 */
import type { MeshConfig, Resource } from '../../api/types.js';
import { lintPolicy, lintWorldOf } from '../../policy-lint/index.js';
import { meshConfigName, type ApiContext } from '../apiserver/context.js';

const LINTED = new Set(['AuthorizationPolicy', 'RequestAuthentication', 'Sidecar']);
const WORLD_KINDS = ['Namespace', 'ServiceAccount', 'Service', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet'];

export function policyWarnings(ctx: ApiContext, obj: Resource): string[] {
  if (!LINTED.has(obj.kind)) return [];
  const { name, namespace } = meshConfigName(ctx.meshName);
  const mc = ctx.store.get({ kind: 'MeshConfig', namespace, name }) as MeshConfig | undefined;
  const objects = WORLD_KINDS.flatMap((k) => ctx.store.list(k));
  return lintPolicy(obj, lintWorldOf(objects, mc?.spec as Parameters<typeof lintWorldOf>[1]));
}
