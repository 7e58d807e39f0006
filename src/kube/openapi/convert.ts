/**
 * A kind's schema (a CRD's openAPIV3Schema, or a built-in one written in that dialect) turned into
 * the definition kube-apiserver publishes. For OpenAPI v2 this follows what the apiextensions server
 * does so kubectl's client-side validation neither refuses valid objects nor chokes on the document:
 * nullable nodes lose type/items/properties, preserve-unknown-fields nodes lose items/properties (and
 * an object type), arrays left without items lose their type, nullable properties leave `required`,
 * junctors (allOf/anyOf/oneOf/not) and defaults are dropped; a root that preserves unknown fields
 * becomes a bare object. v3 keeps the schema as written.
 */
import type { JSONSchemaProps, ResourceType } from '../registry/types.js';
import { builtinSchema, meshKindSchema } from './builtin-schemas.js';
import { LIST_META, OBJECT_META, refTo, type RefStyle } from './common.js';
import { typeDefinitionName } from './names.js';

type Def = Record<string, unknown>;

const API_VERSION_DESC = 'Versioned schema of this representation of an object; servers convert recognized schemas to the latest internal value.';
const KIND_DESC = 'The REST resource this object represents, in CamelCase; cannot be updated.';
const METADATA_DESC = 'Standard object metadata.';

/** The schema the server publishes (and validates with) for a type at a version. */
export function schemaOf(t: ResourceType, version: string): JSONSchemaProps | undefined {
  const v = t.versions.find((x) => x.name === version);
  return v?.schema ?? builtinSchema(t.group, t.kind) ?? meshKindSchema(t.kind);
}

const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'];

function metaRef(style: RefStyle, description: string): Def {
  return style === 'v2' ? { $ref: refTo(style, OBJECT_META), description } : { allOf: [{ $ref: refTo(style, OBJECT_META) }], description };
}

/** One schema node in the published form. */
export function publishSchema(s: JSONSchemaProps, style: RefStyle): Def {
  if (s['x-tessera-object-meta']) return metaRef(style, s.description ?? METADATA_DESC);
  const out: Def = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-tessera-') || k === 'properties' || k === 'items' || k === 'additionalProperties') continue;
    if (style === 'v2' && (k === 'nullable' || k === 'default' || JUNCTORS.includes(k))) continue;
    out[k] = v;
  }
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, publishSchema(v, style)]));
  if (s.items) out.items = publishSchema(s.items, style);
  if (s.additionalProperties !== undefined) {
    out.additionalProperties = typeof s.additionalProperties === 'boolean' ? s.additionalProperties : publishSchema(s.additionalProperties, style);
  }
  if (s['x-kubernetes-int-or-string'] && style === 'v3' && !out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (style === 'v2') toV2(s, out);
  if (s['x-kubernetes-embedded-resource'] && !(style === 'v2' && s['x-kubernetes-preserve-unknown-fields'])) addTypeMeta(out, style, true);
  return out;
}

/** kubectl (1.20 and the v2 model of later ones) cannot cope with these shapes; the apiserver rewrites them. */
function toV2(s: JSONSchemaProps, out: Def): void {
  if (s.nullable) {
    delete out.type;
    delete out.items;
    delete out.properties;
  }
  if (s['x-kubernetes-preserve-unknown-fields']) {
    delete out.items;
    delete out.properties;
    if (out.type === 'object') delete out.type;
  }
  if (out.type === 'array' && out.items === undefined) delete out.type;
  if (Array.isArray(out.required) && s.properties) {
    const kept = (out.required as string[]).filter((r) => !s.properties?.[r]?.nullable);
    if (kept.length > 0) out.required = kept;
    else delete out.required;
  }
  if (typeof s.additionalProperties === 'object' && s.additionalProperties.nullable) delete out.required;
}

function addTypeMeta(out: Def, style: RefStyle, embedded: boolean): void {
  const props = (out.properties ?? {}) as Record<string, Def>;
  props.apiVersion = { type: 'string', description: API_VERSION_DESC };
  props.kind = { type: 'string', description: KIND_DESC };
  props.metadata = metaRef(style, METADATA_DESC);
  out.properties = props;
  if (embedded) {
    const req = new Set((out.required as string[] | undefined) ?? []);
    req.add('kind');
    req.add('apiVersion');
    out.required = [...req];
  }
}

const gvkExt = (group: string, version: string, kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group, kind, version }] });

/** The definition of a kind at a version: its schema plus apiVersion, kind, metadata and the GVK extension. */
export function kindDefinition(t: ResourceType, version: string, style: RefStyle): Def {
  const schema = schemaOf(t, version);
  let def: Def;
  if (!schema || (style === 'v2' && schema['x-kubernetes-preserve-unknown-fields'])) {
    // no properties at all: kubectl would otherwise refuse every field not listed
    def = { type: 'object', ...(schema?.description ? { description: schema.description } : {}) };
  } else {
    def = publishSchema(schema, style);
    def.type = 'object';
    addTypeMeta(def, style, false);
    if (Array.isArray(def.required)) def.required = (def.required as string[]).filter((r) => r !== 'metadata');
    if (Array.isArray(def.required) && (def.required as string[]).length === 0) delete def.required;
  }
  return { ...def, ...gvkExt(t.group, version, t.kind) };
}

/** The `<Kind>List` definition. */
export function listDefinition(t: ResourceType, version: string, style: RefStyle): Def {
  return {
    type: 'object',
    description: `${t.listKind} is a list of ${t.kind}`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: API_VERSION_DESC },
      items: { type: 'array', description: `List of ${t.plural}.`, items: { $ref: refTo(style, typeDefinitionName(t, version)) } },
      kind: { type: 'string', description: KIND_DESC },
      metadata: style === 'v2' ? { $ref: refTo(style, LIST_META), description: 'Standard list metadata.' } : { allOf: [{ $ref: refTo(style, LIST_META) }], description: 'Standard list metadata.' },
    },
    ...gvkExt(t.group, version, t.listKind),
  };
}
