/**
 * Which (apiVersion, kind) pairs have a schema, and the compiled schemas themselves. Every
 * Kubernetes list type is {metadata: ListMeta = 1, items: []Item = 2}, so lists are generated
 * rather than written out.
 */
import type { MessageSchema, MessageTable } from './schema.js';
import { compileTables } from './schema.js';
import { CORE_TABLE } from './tables-core.js';
import { GROUPS_TABLE } from './tables-groups.js';
import { META_TABLE } from './tables-meta.js';

/** apiVersion → kinds whose message has the same name as the kind. */
const KINDS: Readonly<Record<string, readonly string[]>> = {
  v1: ['Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'Pod', 'Status'],
  'apps/v1': ['Deployment'],
  'authentication.k8s.io/v1': ['TokenRequest'],
  'autoscaling/v1': ['Scale'],
  'policy/v1': ['Eviction'],
};

/** Kinds with a List form (the persisted resources). */
const LISTED = ['Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'Pod', 'Deployment'];

/**
 * metav1 option types are registered in every group version (client-go sends DeleteOptions under
 * the version of the resource it deletes), so their apiVersion is not checked.
 */
const ANY_VERSION_KINDS = new Set(['DeleteOptions']);

const LIST_TABLE: MessageTable = Object.fromEntries(LISTED.map((k) => [`${k}List`, { 1: 'metadata ListMeta', 2: `items []${k}` }]));

export const SCHEMAS: ReadonlyMap<string, MessageSchema> = compileTables(META_TABLE, CORE_TABLE, GROUPS_TABLE, LIST_TABLE);

const BY_GVK = new Map<string, string>();
for (const [apiVersion, kinds] of Object.entries(KINDS)) {
  for (const kind of kinds) {
    BY_GVK.set(`${apiVersion}/${kind}`, kind);
    if (LISTED.includes(kind)) BY_GVK.set(`${apiVersion}/${kind}List`, `${kind}List`);
  }
}

/** The top-level message schema for an object of this apiVersion and kind, if we have one. */
export function schemaForKind(apiVersion: string, kind: string): MessageSchema | undefined {
  const name = ANY_VERSION_KINDS.has(kind) && apiVersion !== '' ? kind : BY_GVK.get(`${apiVersion}/${kind}`);
  return name === undefined ? undefined : SCHEMAS.get(name);
}

/** Every (apiVersion, kind) with a fixed apiVersion that the codec handles; DeleteOptions is accepted under any apiVersion. */
export function supportedKinds(): { apiVersion: string; kind: string }[] {
  return [...BY_GVK.keys()].map((k) => {
    const slash = k.lastIndexOf('/');
    return { apiVersion: k.slice(0, slash), kind: k.slice(slash + 1) };
  });
}

export function messageSchema(name: string): MessageSchema {
  const s = SCHEMAS.get(name);
  if (!s) throw new Error(`protobuf schema: no message ${name}`);
  return s;
}
