/**
 * kube-apiserver converts an applied configuration to its type's schema before merging, and a field
 * the schema does not declare stops the apply whatever `fieldValidation` says. This finds the first
 * such field of a configuration against an OpenAPI v3 schema (a CRD's `openAPIV3Schema`).
 */
import type { JSONSchemaProps } from '../registry/types.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `.spec.shape` for the first undeclared field (object keys in order), undefined when all are declared. */
export function undeclaredField(value: unknown, schema: JSONSchemaProps | undefined, path = ''): string | undefined {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields'] === true) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const bad = undeclaredField(item, schema.items, `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (!isObj(value) || schema['x-kubernetes-embedded-resource'] === true) return undefined;
  for (const [k, v] of Object.entries(value)) {
    // metadata is ObjectMeta whatever the CRD says; apiVersion and kind are every object's
    if (path === '' && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
    const declared = schema.properties?.[k];
    if (declared) {
      const bad = undeclaredField(v, declared, `${path}.${k}`);
      if (bad) return bad;
      continue;
    }
    if (schema.additionalProperties === true) continue;
    if (typeof schema.additionalProperties === 'object') {
      const bad = undeclaredField(v, schema.additionalProperties, `${path}.${k}`);
      if (bad) return bad;
      continue;
    }
    if (schema.properties || schema.type === 'object') return `${path}.${k}`;
  }
  return undefined;
}
