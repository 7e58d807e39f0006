/**
 * Real CustomResourceDefinitions for every mesh kind, from the registry the embedded API server
 * serves them with (src/kube/registry): the same group, served versions, storage version, scope,
 * names (short names, categories) and status subresource. The schema is structural: apiVersion,
 * kind and metadata typed, spec and status kept open, because Tessera's own validator (src/api/
 * validation) is the authority on their content, as FSM's admission webhook is for FSM's kinds.
 */
import type { Manifest } from './manifest.js';
import { builtinResourceTypes, isMeshKind, type JSONSchemaProps, type PrinterColumn, type ResourceType } from '../kube/registry/index.js';

export const CRD_LABELS = { 'app.kubernetes.io/name': 'tessera', 'app.kubernetes.io/part-of': 'tessera' } as const;

/** Printer columns where the upstream CRDs declare them (Istio's AuthorizationPolicy); FSM's and SMI's declare none. */
const PRINTER_COLUMNS: Record<string, PrinterColumn[]> = {
  'security.istio.io/AuthorizationPolicy': [
    { name: 'Action', type: 'string', description: 'The operation to take.', jsonPath: '.spec.action' },
    { name: 'Age', type: 'date', description: 'CreationTimestamp of the resource.', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export function crdSchema(t: ResourceType): JSONSchemaProps {
  return {
    description: `${t.kind} of the ${t.group} API, served for Tessera. Its spec is checked by Tessera's validator.`,
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  };
}

/** The mesh kinds, as the registry lists them. */
export function meshResourceTypes(): ResourceType[] {
  return builtinResourceTypes().filter(isMeshKind);
}

export function crdName(t: ResourceType): string {
  return `${t.plural}.${t.group}`;
}

export function crdFor(t: ResourceType): Manifest {
  const names: Record<string, unknown> = { kind: t.kind, listKind: t.listKind, plural: t.plural, singular: t.singular };
  if (t.shortNames.length > 0) names.shortNames = t.shortNames;
  if (t.categories.length > 0) names.categories = t.categories;
  const columns = PRINTER_COLUMNS[`${t.group}/${t.kind}`];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(t), labels: { ...CRD_LABELS } },
    spec: {
      group: t.group,
      names,
      scope: t.namespaced ? 'Namespaced' : 'Cluster',
      versions: t.versions.map((v) => ({
        name: v.name,
        served: true,
        storage: v.storage,
        schema: { openAPIV3Schema: crdSchema(t) },
        ...((v.subresources ?? []).includes('status') ? { subresources: { status: {} } } : {}),
        ...(columns ? { additionalPrinterColumns: columns } : {}),
      })),
    },
  };
}

export function renderCrds(): Manifest[] {
  return meshResourceTypes().map(crdFor);
}
