/**
 * The resource types compiled into the server. Core and apps kinds are built in (strategic merge
 * patch allowed); the mesh's own kinds (FSM, SMI, Istio) are served as custom resources under their
 * real groups, as they are on a cluster, and get a CustomResourceDefinition object of their own so
 * `kubectl get crd` lists them.
 */
import { KINDS, type KindInfo } from '../../api/kinds.js';
import type { ResourceType, ServedVersion } from './types.js';
import { webhookConfigurationSchema } from '../admission-webhooks/schema.js';
import { admissionPolicySchema } from '../admission-policy/schema.js';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Which of our kinds are Kubernetes' own, and what each serves beyond CRUD. */
const CORE_EXTRAS: Record<string, { subresources: string[]; categories?: string[] }> = {
  Namespace: { subresources: ['status', 'finalize'] },
  ServiceAccount: { subresources: ['token'] },
  Service: { subresources: ['status', 'proxy'], categories: ['all'] },
  Pod: { subresources: ['status', 'log', 'exec', 'attach', 'portforward', 'proxy', 'binding', 'eviction'], categories: ['all'] },
  Secret: { subresources: [] },
  ConfigMap: { subresources: [] },
  Deployment: { subresources: ['status', 'scale'], categories: ['all'] },
};

function builtinFromKind(k: KindInfo): ResourceType {
  const { group, version } = splitApiVersion(k.apiVersion);
  const extras = CORE_EXTRAS[k.kind] ?? { subresources: [] };
  return {
    group, kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.singular,
    shortNames: k.shortNames.filter((s) => s !== k.singular), categories: extras.categories ?? [],
    namespaced: k.namespaced, verbs: k.kind === 'Namespace' ? CRUD.filter((v) => v !== 'deletecollection') : CRUD,
    subresources: extras.subresources, builtIn: true,
    versions: [{ name: version, storage: true, subresources: extras.subresources.filter((s) => s === 'status' || s === 'scale') }],
  };
}

/** The mesh kinds' served versions: every accepted apiVersion of the same group, the canonical one stored. */
function meshTypeFromKind(k: KindInfo): ResourceType {
  const { group, version } = splitApiVersion(k.apiVersion);
  const versions: ServedVersion[] = [{ name: version, storage: true, subresources: ['status'] }];
  for (const accepted of k.acceptedApiVersions ?? []) {
    const other = splitApiVersion(accepted);
    if (other.group === group && !versions.some((v) => v.name === other.version)) {
      versions.push({ name: other.version, storage: false, subresources: ['status'] });
    }
  }
  return {
    group, kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.singular,
    shortNames: k.shortNames.filter((s) => s !== k.singular), categories: group.endsWith('flomesh.io') ? ['fsm'] : [],
    namespaced: k.namespaced, verbs: CRUD, subresources: ['status'], builtIn: false, versions,
  };
}

function plainBuiltin(group: string, version: string, kind: string, plural: string, namespaced: boolean, shortNames: string[] = [], subresources: string[] = []): ResourceType {
  return {
    group, kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: [],
    namespaced, verbs: CRUD, subresources, builtIn: true,
    versions: [{ name: version, storage: true, subresources: subresources.filter((s) => s === 'status') }],
  };
}

const BUILTIN_GROUPS = new Set(['', 'apps']);

/** Every type the server serves before any user CRD is created. */
export function builtinResourceTypes(): ResourceType[] {
  const types: ResourceType[] = [];
  for (const k of KINDS) {
    const { group } = splitApiVersion(k.apiVersion);
    types.push(BUILTIN_GROUPS.has(group) ? builtinFromKind(k) : meshTypeFromKind(k));
  }
  types.push(
    plainBuiltin('', 'v1', 'Endpoints', 'endpoints', true, ['ep']),
    { ...plainBuiltin('', 'v1', 'Event', 'events', true, ['ev']), singular: 'event' },
    { ...plainBuiltin('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true), singular: 'endpointslice' },
    // leader election of the controller's replicas (control-plane/leader.ts)
    { ...plainBuiltin('coordination.k8s.io', 'v1', 'Lease', 'leases', true), singular: 'lease' },
    {
      ...plainBuiltin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds'], ['status']),
      singular: 'customresourcedefinition', categories: ['api-extensions'],
    },
    ...authTypes(),
    ...admissionTypes(),
  );
  return types;
}

/**
 * admissionregistration.k8s.io/v1 webhook configurations (cluster-scoped, stored): the server
 * validates them (src/kube/admission-webhooks) and calls the webhooks they describe on every write.
 */
function admissionTypes(): ResourceType[] {
  const group = 'admissionregistration.k8s.io';
  return (['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const).map((kind): ResourceType => {
    const t = plainBuiltin(group, 'v1', kind, `${kind.toLowerCase()}s`, false);
    return { ...t, categories: ['api-extensions'], versions: t.versions.map((v) => ({ ...v, schema: webhookConfigurationSchema(kind) })) };
  }).concat(admissionPolicyTypes(group));
}

/**
 * admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (+`status`) and its binding
 * (cluster-scoped, stored): validated and enforced by src/kube/admission-policy.
 */
function admissionPolicyTypes(group: string): ResourceType[] {
  return (['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'] as const).map((kind) => {
    const plural = kind === 'ValidatingAdmissionPolicy' ? 'validatingadmissionpolicies' : 'validatingadmissionpolicybindings';
    const t = plainBuiltin(group, 'v1', kind, plural, false, [], kind === 'ValidatingAdmissionPolicy' ? ['status'] : []);
    return { ...t, categories: ['api-extensions'], versions: t.versions.map((v) => ({ ...v, schema: admissionPolicySchema(kind) })) };
  });
}

/**
 * RBAC (rbac.authorization.k8s.io/v1, stored) and the review kinds answered without being stored
 * (authorization.k8s.io/v1 access and rules reviews, authentication.k8s.io/v1 SelfSubjectReview and
 * TokenReview); src/kube/auth serves the reviews and decides with the RBAC objects.
 */
function authTypes(): ResourceType[] {
  const rbac = 'rbac.authorization.k8s.io';
  const createOnly = (group: string, kind: string, plural: string): ResourceType => ({ ...plainBuiltin(group, 'v1', kind, plural, false), verbs: ['create'] });
  return [
    plainBuiltin(rbac, 'v1', 'Role', 'roles', true),
    plainBuiltin(rbac, 'v1', 'ClusterRole', 'clusterroles', false),
    plainBuiltin(rbac, 'v1', 'RoleBinding', 'rolebindings', true),
    plainBuiltin(rbac, 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
    createOnly('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
    createOnly('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
    createOnly('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
    createOnly('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews'),
    { ...createOnly('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews'), namespaced: true },
    createOnly('authentication.k8s.io', 'TokenReview', 'tokenreviews'),
  ];
}

/** True for the mesh's own kinds (served from built-in code but presented as CRDs). */
export function isMeshKind(t: ResourceType): boolean {
  return !t.builtIn;
}
