/**
 * CustomResourceDefinition objects for the mesh's own kinds, so a cluster-like view (`kubectl get
 * crd`, `kubectl explain`) shows them as they appear on a cluster where FSM or Istio is installed.
 */
import type { Resource } from '../../api/types.js';
import type { JSONSchemaProps, ResourceType } from './types.js';

/** A schema that keeps whatever the mesh's own validator accepted (the validator is the authority). */
export const OPEN_OBJECT_SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

/** The status kube-apiserver reports for an accepted, established CRD. */
export function establishedStatus(spec: { names?: object; versions?: { name?: string; storage?: boolean }[] }, now: string): Record<string, unknown> {
  const storage = (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name);
  return {
    acceptedNames: spec.names ?? {},
    storedVersions: storage,
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
  };
}

export function crdObjectFor(t: ResourceType, schemaOf: (t: ResourceType) => JSONSchemaProps, now: string): Resource {
  const names: Record<string, unknown> = { kind: t.kind, listKind: t.listKind, plural: t.plural, singular: t.singular };
  if (t.shortNames.length > 0) names.shortNames = t.shortNames;
  if (t.categories.length > 0) names.categories = t.categories;
  const spec = {
    group: t.group,
    names,
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    versions: t.versions.map((v) => ({
      name: v.name, served: true, storage: v.storage,
      schema: { openAPIV3Schema: schemaOf(t) },
      subresources: Object.fromEntries((v.subresources ?? []).map((s) => [s, {}])),
      ...(v.printerColumns ? { additionalPrinterColumns: v.printerColumns } : {}),
    })),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${t.plural}.${t.group}`, labels: { 'app.kubernetes.io/part-of': 'tessera' } },
    spec,
    status: establishedStatus(spec, now),
  };
}
