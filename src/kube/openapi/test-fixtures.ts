/** Resource types the tests publish: a few built-in kinds, the CRD kind and one custom resource. */
import type { JSONSchemaProps, ResourceType } from '../registry/types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const builtin = (group: string, version: string, kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType => ({
  group, versions: [{ name: version, storage: true }], kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(),
  shortNames: [], categories: [], namespaced, verbs: ALL_VERBS, subresources: [], builtIn: true, ...extra,
});

export const WIDGET_SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, description: 'How big.' },
        port: { 'x-kubernetes-int-or-string': true, description: 'Port number or name.' },
        note: { type: 'string', nullable: true },
        mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'boolean' } } },
        // a junctor, as CRDs may carry one: published in v3, dropped from v2
        choice: { type: 'string', ...({ anyOf: [{ pattern: '^a' }, { pattern: '^b' }] } as object) },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

export const TYPES: ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status'] }),
  builtin('', 'v1', 'Pod', 'pods', true, { shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'exec'] }),
  builtin('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, { shortNames: ['crd', 'crds'], subresources: ['status'] }),
  {
    group: 'example.com', versions: [{ name: 'v1', storage: true, schema: WIDGET_SCHEMA, subresources: ['status'] }], kind: 'Widget', listKind: 'WidgetList',
    plural: 'widgets', singular: 'widget', shortNames: ['wd'], categories: [], namespaced: true, verbs: ALL_VERBS, subresources: [], builtIn: false,
  },
  {
    group: 'security.istio.io', versions: [{ name: 'v1', storage: true }], kind: 'AuthorizationPolicy', listKind: 'AuthorizationPolicyList',
    plural: 'authorizationpolicies', singular: 'authorizationpolicy', shortNames: ['ap'], categories: [], namespaced: true, verbs: ALL_VERBS, subresources: [], builtIn: false,
  },
];
