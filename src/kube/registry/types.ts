/**
 * What the Kubernetes API server knows about one resource type: the names kubectl resolves, where it
 * lives (group, versions, scope), which verbs and subresources it serves, and, for custom resources,
 * the schema and printer columns their CustomResourceDefinition declared. Built-in kinds and CRDs are
 * described the same way, so discovery, OpenAPI, tables and routing read one structure.
 */

/** A JSON Schema as Kubernetes writes it in `openAPIV3Schema` (structural subset plus x-kubernetes-*). */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  [extension: `x-${string}`]: unknown;
}

/** A CRD's `additionalPrinterColumns` entry (and the built-in tables' column definitions). */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 0 for the default view, >0 only with `-o wide` */
  priority?: number;
  /** the JSONPath (kubectl dialect, without braces) the cell is read from */
  jsonPath: string;
}

export interface ServedVersion {
  name: string;
  /** exactly one version of a type is the storage version */
  storage: boolean;
  schema?: JSONSchemaProps;
  printerColumns?: PrinterColumn[];
  /** subresources this version serves (`status`, `scale`) */
  subresources?: string[];
  deprecated?: boolean;
}

export interface ResourceType {
  /** '' for the core group */
  group: string;
  /** served versions, the preferred (storage) one first */
  versions: ServedVersion[];
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** the verbs discovery lists for the main resource */
  verbs: string[];
  /** subresources served (`status`, `scale`, `log`, `exec`, `portforward`, `proxy`, `token`…) */
  subresources: string[];
  /** true for kinds compiled into the server: strategic merge patch is allowed on them (415 on CRs) */
  builtIn: boolean;
}

/** `group/version`, or just `version` for the core group (the `apiVersion` field of an object). */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}
