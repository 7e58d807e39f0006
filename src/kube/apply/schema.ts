/**
 * How server-side apply merges each field: which lists are associative (and by which keys), which
 * are sets of scalars, which are atomic, and which maps are atomic. Built-in kinds take the list-map
 * keys Kubernetes declares, which are the strategic-merge keys the patch code already knows (plus
 * the keys SSA adds, such as `protocol` beside a port); custom resources take the CRD schema's
 * `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type`.
 */
import type { JSONSchemaProps } from '../registry/types.js';
import type { StrategicSchema } from '../patch/index.js';

export interface ApplySchema {
  /** how a list here merges; lists without a schema are atomic, as in structured-merge-diff */
  readonly list?: 'atomic' | 'set' | 'map';
  /** the key fields of an associative list */
  readonly keys?: readonly string[];
  /** defaults of key fields an item may omit (a port's protocol is TCP) */
  readonly keyDefaults?: Readonly<Record<string, unknown>>;
  /** a map merged as one value */
  readonly atomic?: boolean;
  /**
   * a Go struct rather than a map: always present in a built-in object, so an Update never owns it
   * as such (its fields, yes); kube-apiserver writes `.` only for maps and optional structs
   */
  readonly struct?: boolean;
  /** the fields of this map, or of each item of this list */
  readonly fields?: Readonly<Record<string, ApplySchema>>;
  /** the schema of every other key of this map (additionalProperties) */
  readonly values?: ApplySchema;
}

export const NO_SCHEMA: ApplySchema = {};

/** The schema of `field` of a map (or of each item's field, for a list). */
export function fieldSchema(s: ApplySchema | undefined, field: string): ApplySchema {
  return s?.fields?.[field] ?? s?.values ?? NO_SCHEMA;
}

/**
 * Keys Kubernetes declares with `+listMapKey` beyond the strategic-merge key: ports are keyed by
 * port and protocol (which defaults to TCP).
 */
const EXTRA_KEYS: Readonly<Record<string, { keys: string[]; defaults: Record<string, unknown> }>> = {
  containerPort: { keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  port: { keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
};

export function fromStrategic(s: StrategicSchema): ApplySchema {
  const fields = s.fields ? Object.fromEntries(Object.entries(s.fields).map(([k, v]) => [k, fromStrategic(v)])) : undefined;
  const out: { -readonly [K in keyof ApplySchema]: ApplySchema[K] } = {};
  if (fields) out.fields = fields;
  if (s.patchStrategy === 'merge' && s.patchMergeKey) {
    out.list = 'map';
    const extra = EXTRA_KEYS[s.patchMergeKey];
    out.keys = extra ? extra.keys : [s.patchMergeKey];
    if (extra) out.keyDefaults = extra.defaults;
  } else if (s.patchStrategy === 'merge') {
    out.list = 'set';
  }
  return out;
}

export function fromJsonSchema(s: JSONSchemaProps | undefined): ApplySchema {
  if (!s) return NO_SCHEMA;
  const out: { -readonly [K in keyof ApplySchema]: ApplySchema[K] } = {};
  if (s.type === 'array' || s.items) {
    const lt = s['x-kubernetes-list-type'];
    if (lt === 'map' && (s['x-kubernetes-list-map-keys'] ?? []).length > 0) {
      out.list = 'map';
      out.keys = s['x-kubernetes-list-map-keys']!;
      const defaults: Record<string, unknown> = {};
      for (const k of out.keys) {
        const d = s.items?.properties?.[k]?.default;
        if (d !== undefined) defaults[k] = d;
      }
      if (Object.keys(defaults).length > 0) out.keyDefaults = defaults;
    } else if (lt === 'set') {
      out.list = 'set';
    } else {
      out.list = 'atomic';
    }
    const item = fromJsonSchema(s.items);
    if (item.fields) out.fields = item.fields;
    if (item.values) out.values = item.values;
    return out;
  }
  if (s['x-kubernetes-map-type'] === 'atomic') out.atomic = true;
  if (s.properties) out.fields = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, fromJsonSchema(v)]));
  if (typeof s.additionalProperties === 'object') out.values = fromJsonSchema(s.additionalProperties);
  return out;
}

/** `b` laid over `a`: what `b` says about a field wins, what only `a` says stays. */
export function overlay(a: ApplySchema, b: ApplySchema): ApplySchema {
  const out: { -readonly [K in keyof ApplySchema]: ApplySchema[K] } = { ...a, ...b };
  if (a.fields || b.fields) {
    const fields: Record<string, ApplySchema> = { ...a.fields };
    for (const [k, v] of Object.entries(b.fields ?? {})) fields[k] = a.fields?.[k] ? overlay(a.fields[k]!, v) : v;
    out.fields = fields;
  }
  return out;
}

/** ObjectMeta as SSA sees it: owner references keyed by uid, finalizers a set. */
export const OBJECT_META: ApplySchema = { struct: true, fields: { ownerReferences: { list: 'map', keys: ['uid'] }, finalizers: { list: 'set' } } };

const ATOMIC: ApplySchema = { atomic: true };
const POD_TEMPLATE: ApplySchema = { struct: true, fields: { metadata: OBJECT_META, spec: { struct: true } } };

/**
 * What built-in kinds declare beyond their strategic-merge tags: label selectors are atomic
 * (`+structType=atomic`, a Service's selector `+mapType=atomic`), and the structs every object of
 * the kind has.
 */
const BUILTIN_EXTRAS: Readonly<Record<string, ApplySchema>> = {
  '/Service': { fields: { spec: { struct: true, fields: { selector: ATOMIC } }, status: { struct: true } } },
  'apps/Deployment': {
    fields: { spec: { struct: true, fields: { selector: ATOMIC, template: POD_TEMPLATE, strategy: { struct: true } } }, status: { struct: true } },
  },
  '/Pod': { fields: { spec: { struct: true }, status: { struct: true } } },
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': { fields: { webhooks: { fields: { namespaceSelector: ATOMIC, objectSelector: ATOMIC } } } },
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': { fields: { webhooks: { fields: { namespaceSelector: ATOMIC, objectSelector: ATOMIC } } } },
};

export function builtinExtras(group: string, kind: string): ApplySchema {
  return BUILTIN_EXTRAS[`${group}/${kind}`] ?? { fields: { spec: { struct: true }, status: { struct: true } } };
}
