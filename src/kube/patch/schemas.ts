/**
 * Strategic-merge metadata of the built-in kinds the API server serves, transcribed from the
 * `patchStrategy` / `patchMergeKey` struct tags of k8s.io/api (core/v1, apps/v1, discovery/v1,
 * coordination/v1, rbac/v1, admissionregistration/v1), k8s.io/apiextensions-apiserver (v1) and
 * k8s.io/apimachinery (ObjectMeta). Only fields with a tag are listed; every other list is replaced
 * and every other map merged, which is also what an untagged Go field does. Lists Kubernetes marks
 * `+listType=atomic` or leaves untagged are deliberately absent: tolerations, envFrom, command,
 * args, readinessGates, containerStatuses, Endpoints subsets, EndpointSlice endpoints and ports,
 * ServiceAccount imagePullSecrets and Namespace spec.finalizers; CustomResourceDefinition versions,
 * RBAC rules and subjects, ValidatingAdmissionPolicy validations and variables (k8s.io/api rbac/v1,
 * admissionregistration/v1 and k8s.io/apiextensions-apiserver v1 tag none of them).
 */

import type { StrategicSchema } from './strategic.js';

type Fields = { readonly [field: string]: StrategicSchema };

function byKey(patchMergeKey: string, fields?: Fields): StrategicSchema {
  return fields ? { patchStrategy: 'merge', patchMergeKey, fields } : { patchStrategy: 'merge', patchMergeKey };
}

/** `patchStrategy:"merge,retainKeys"` lists: kubectl apply sends $retainKeys in each element. */
function byKeyRetaining(patchMergeKey: string): StrategicSchema {
  return { patchStrategy: 'merge', patchMergeKey, retainKeys: true };
}

/** A primitive list with `patchStrategy:"merge"` and no key: merged as a set. */
const SET: StrategicSchema = { patchStrategy: 'merge' };

const OBJECT_META: StrategicSchema = {
  fields: { ownerReferences: byKey('uid'), finalizers: SET },
};

// Container and EphemeralContainerCommon carry the same tags.
const CONTAINERS = byKey('name', {
  ports: byKey('containerPort'),
  env: byKey('name'),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
});

const POD_SPEC: StrategicSchema = {
  fields: {
    volumes: byKeyRetaining('name'),
    initContainers: CONTAINERS,
    containers: CONTAINERS,
    ephemeralContainers: CONTAINERS,
    imagePullSecrets: byKey('name'),
    hostAliases: byKey('ip'),
    topologySpreadConstraints: byKey('topologyKey'),
    schedulingGates: byKey('name'),
    resourceClaims: byKeyRetaining('name'),
  },
};

const POD_STATUS: StrategicSchema = {
  fields: {
    conditions: byKey('type'),
    podIPs: byKey('ip'),
    hostIPs: byKey('ip'),
    resourceClaimStatuses: byKeyRetaining('name'),
  },
};

const CONDITIONS_STATUS: StrategicSchema = { fields: { conditions: byKey('type') } };

const METADATA_ONLY: StrategicSchema = { fields: { metadata: OBJECT_META } };

const WEBHOOK_CONFIGURATION: StrategicSchema = {
  fields: { metadata: OBJECT_META, webhooks: byKey('name', { matchConditions: byKey('name') }) },
};

const SCHEMAS: ReadonlyMap<string, StrategicSchema> = new Map<string, StrategicSchema>([
  ['/Pod', { fields: { metadata: OBJECT_META, spec: POD_SPEC, status: POD_STATUS } }],
  [
    '/Service',
    { fields: { metadata: OBJECT_META, spec: { fields: { ports: byKey('port') } }, status: CONDITIONS_STATUS } },
  ],
  ['/Endpoints', METADATA_ONLY],
  ['/ConfigMap', METADATA_ONLY],
  ['/Secret', METADATA_ONLY],
  ['/Event', METADATA_ONLY],
  ['/ServiceAccount', { fields: { metadata: OBJECT_META, secrets: byKey('name') } }],
  ['/Namespace', { fields: { metadata: OBJECT_META, status: CONDITIONS_STATUS } }],
  [
    'apps/Deployment',
    {
      fields: {
        metadata: OBJECT_META,
        spec: {
          fields: {
            template: { fields: { metadata: OBJECT_META, spec: POD_SPEC } },
            // `patchStrategy:"retainKeys"`: switching type to Recreate must drop rollingUpdate.
            strategy: { retainKeys: true },
          },
        },
        status: CONDITIONS_STATUS,
      },
    },
  ],
  ['discovery.k8s.io/EndpointSlice', METADATA_ONLY],
  ['coordination.k8s.io/Lease', METADATA_ONLY],
  // apiextensions/v1: no patch tags (spec.versions, status.conditions are replaced)
  ['apiextensions.k8s.io/CustomResourceDefinition', METADATA_ONLY],
  // rbac/v1: PolicyRule lists (rules), subjects and aggregationRule selectors carry no patch tags: atomic
  ['rbac.authorization.k8s.io/Role', METADATA_ONLY],
  ['rbac.authorization.k8s.io/ClusterRole', METADATA_ONLY],
  ['rbac.authorization.k8s.io/RoleBinding', METADATA_ONLY],
  ['rbac.authorization.k8s.io/ClusterRoleBinding', METADATA_ONLY],
  // admissionregistration/v1: `webhooks` is patchStrategy:"merge" patchMergeKey:"name" (and so is each
  // webhook's matchConditions); rules are atomic
  ['admissionregistration.k8s.io/MutatingWebhookConfiguration', WEBHOOK_CONFIGURATION],
  ['admissionregistration.k8s.io/ValidatingWebhookConfiguration', WEBHOOK_CONFIGURATION],
  // a policy's matchConditions merge by name; validations, variables and auditAnnotations are atomic
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicy', { fields: { metadata: OBJECT_META, spec: { fields: { matchConditions: byKey('name') } } } }],
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding', METADATA_ONLY],
]);

deepFreeze(SCHEMAS);

/**
 * The strategic-merge schema of a built-in kind; `group` is '' for the core group. `undefined` for
 * anything else: kube-apiserver refuses strategic merge on custom resources (415), since they carry
 * no struct tags.
 */
export function strategicSchemaFor(group: string, kind: string): StrategicSchema | undefined {
  return SCHEMAS.get(`${group}/${kind}`);
}

/** Schemas are shared by every request; freezing them keeps one caller from changing another's merge. */
function deepFreeze(schemas: ReadonlyMap<string, StrategicSchema>): void {
  const seen = new Set<StrategicSchema>();
  const freeze = (s: StrategicSchema): void => {
    if (seen.has(s)) return;
    seen.add(s);
    if (s.fields) {
      for (const f of Object.values(s.fields)) freeze(f);
      Object.freeze(s.fields);
    }
    Object.freeze(s);
  };
  for (const s of schemas.values()) freeze(s);
}
