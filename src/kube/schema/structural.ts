/**
 * The checks the apiserver makes on a CRD version's `openAPIV3Schema` before accepting the CRD:
 * apiextensions' API validation (no $ref/definitions/patternProperties…, known types, list types,
 * defaults valid and pruned) and the structural-schema invariants (a type on every specified node
 * unless int-or-string or preserve-unknown-fields, items on every array, root metadata restricted
 * to name/generateName, value validations under anyOf/allOf/oneOf/not free of structure).
 * The input is untrusted JSON, so it is read as such rather than as JSONSchemaProps.
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { causes, FieldPath, formatCause, type StatusCause } from './causes.js';
import { prune } from './prune.js';
import { validateValue } from './validate.js';
import { isObject, type JsonObject } from './walk.js';

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const UNSUPPORTED = ['$ref', 'id', '$schema', 'definitions', 'patternProperties', 'dependencies', 'additionalItems'] as const;
const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;

type Level = 'root' | 'item' | 'field';

/**
 * Causes for one schema; `path` is where it sits in the CRD, e.g. `spec.versions[0].schema.openAPIV3Schema`.
 * Sorted by their printed form, as the apiserver sorts them.
 */
export function validateStructuralSchema(schema: unknown, path = 'spec.versions[0].schema.openAPIV3Schema'): StatusCause[] {
  const root = path.split('.').reduce((p, seg) => {
    const m = /^([^[]*)((\[\d+\])*)$/.exec(seg);
    if (!m) return p.child(seg);
    let q = m[1] ? p.child(m[1]) : p;
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) q = q.index(Number(idx[1]));
    return q;
  }, FieldPath.root());
  const out: StatusCause[] = [];
  if (!isObject(schema)) {
    out.push(causes.required(root, 'must not be empty'));
    return out;
  }
  node(schema, root, 'root', false, out);
  return out.sort((a, b) => (formatCause(a) < formatCause(b) ? -1 : formatCause(a) > formatCause(b) ? 1 : 0));
}

function node(s: JsonObject, p: FieldPath, level: Level, embeddedParent: boolean, out: StatusCause[]): void {
  for (const key of UNSUPPORTED) if (key in s) out.push(causes.forbidden(p.child(key), `${key} is not supported`));
  const type = s.type;
  if (type !== undefined && (typeof type !== 'string' || !TYPES.includes(type))) out.push(causes.notSupported(p.child('type'), type, TYPES));
  const preserve = s['x-kubernetes-preserve-unknown-fields'];
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (preserve === false) out.push(causes.invalid(p.child('x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  if (s.uniqueItems === true) out.push(causes.forbidden(p.child('uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (intOrString && preserve === true) out.push(causes.invalid(p.child('x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) out.push(causes.invalid(p.child('x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));

  const props = isObject(s.properties) ? s.properties : undefined;
  const additional = s.additionalProperties;
  if (additional !== undefined) {
    if (level === 'root') out.push(causes.forbidden(p.child('additionalProperties'), 'must not be used at the root'));
    if (props && Object.keys(props).length > 0 && (additional === false || isObject(additional))) {
      out.push(causes.forbidden(p.child('additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    }
    if (embedded) out.push(causes.forbidden(p.child('additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
    if (isObject(additional)) node(additional, p.child('additionalProperties'), 'field', false, out);
  }

  if (type === 'array' && !isObject(s.items)) out.push(causes.required(p.child('items'), 'must be specified'));
  if (isObject(s.items)) node(s.items, p.child('items'), 'item', false, out);

  if (embedded && type !== 'object') {
    if (type === undefined) out.push(causes.required(p.child('type'), 'must be object if x-kubernetes-embedded-resource is true'));
    else out.push(causes.invalid(p.child('type'), type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (type === undefined && !intOrString && preserve !== true && !('$ref' in s)) {
    // a $ref node is refused for the $ref alone: its missing type would only repeat that
    const why = { root: 'must not be empty at the root', item: 'must not be empty for specified array items', field: 'must not be empty for specified object fields' }[level];
    out.push(causes.required(p.child('type'), why));
  }
  if (level === 'root' && type !== undefined && type !== 'object') out.push(causes.invalid(p.child('type'), type, 'must be object at the root'));
  if (embedded && preserve !== true && (!props || Object.keys(props).length === 0)) {
    out.push(causes.required(p.child('properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }

  const resourceLike = level === 'root' || embedded;
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      const pp = p.child('properties').key(k);
      if (!isObject(v)) {
        out.push(causes.required(pp.child('type'), 'must not be empty for specified object fields'));
        continue;
      }
      if (resourceLike && (k === 'kind' || k === 'apiVersion') && v.type !== 'string') out.push(causes.invalid(pp.child('type'), v.type ?? '', 'must be string'));
      if (k === 'metadata') metadataNode(v, pp, level, resourceLike, out);
      node(v, pp, 'field', embedded || embeddedParent, out);
    }
  }

  listType(s, p, out);
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined) {
    if (mapType !== 'atomic' && mapType !== 'granular') out.push(causes.notSupported(p.child('x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
    else if (type !== 'object') out.push(causes.invalid(p.child('type'), type ?? '', 'must be object if x-kubernetes-map-type is specified'));
  }
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch (e) {
      out.push(causes.invalid(p.child('pattern'), s.pattern, `must be a valid regular expression, but isn't: ${(e as Error).message}`));
    }
  }
  junctors(s, p, level, out);
  if (s.default !== undefined) defaultValue(s, p, out);
}

function metadataNode(m: JsonObject, p: FieldPath, level: Level, resourceLike: boolean, out: StatusCause[]): void {
  if (resourceLike && m.type !== 'object') out.push(causes.invalid(p.child('type'), m.type ?? '', 'must be object'));
  if (level !== 'root') return;
  const allowed = new Set(['type', 'properties', 'description']);
  const props = isObject(m.properties) ? Object.keys(m.properties) : [];
  const extraProps = props.filter((k) => k !== 'name' && k !== 'generateName');
  if (Object.keys(m).some((k) => !allowed.has(k)) || extraProps.length > 0) {
    out.push(causes.forbidden(p, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
}

function listType(s: JsonObject, p: FieldPath, out: StatusCause[]): void {
  const lt = s['x-kubernetes-list-type'];
  const keys = s['x-kubernetes-list-map-keys'];
  const items = isObject(s.items) ? s.items : undefined;
  if (keys !== undefined && lt !== 'map') out.push(causes.forbidden(p.child('x-kubernetes-list-map-keys'), 'requires x-kubernetes-list-type: map'));
  if (lt === undefined) return;
  if (lt !== 'atomic' && lt !== 'set' && lt !== 'map') {
    out.push(causes.notSupported(p.child('x-kubernetes-list-type'), lt, ['atomic', 'set', 'map']));
    return;
  }
  if (s.type !== 'array') {
    out.push(causes.invalid(p.child('type'), s.type ?? '', 'must be array if x-kubernetes-list-type is specified'));
    return;
  }
  if (lt === 'set' && items && (items.type === 'object' || items.type === 'array')) {
    out.push(causes.invalid(p.child('items').child('type'), items.type, 'must be a scalar type if parent array type is set'));
  }
  if (lt !== 'map') return;
  if (!Array.isArray(keys) || keys.length === 0) {
    out.push(causes.required(p.child('x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    return;
  }
  if (!items || items.type !== 'object') {
    out.push(causes.invalid(p.child('items').child('type'), items?.type ?? '', 'must be object if parent array\'s x-kubernetes-list-type is map'));
    return;
  }
  const props = isObject(items.properties) ? items.properties : {};
  const required = Array.isArray(items.required) ? items.required : [];
  keys.forEach((k, i) => {
    const kp = p.child('x-kubernetes-list-map-keys').index(i);
    const prop = props[k as string];
    if (!isObject(prop)) {
      out.push(causes.invalid(kp, k, 'entries must all be names of item properties'));
      return;
    }
    if (prop.type === 'object' || prop.type === 'array') out.push(causes.invalid(kp, k, 'must be a scalar type'));
    if (!required.includes(k) && prop.default === undefined) out.push(causes.invalid(kp, k, 'all map keys must be required or have a default value'));
  });
}

/** Under a junctor only value validations may appear: structure lives in the main schema. */
function junctors(s: JsonObject, p: FieldPath, level: Level, out: StatusCause[]): void {
  const intOrStringAnyOf = (list: unknown) =>
    Array.isArray(list) && list.length === 2 && isObject(list[0]) && isObject(list[1]) && list[0].type === 'integer' && list[1].type === 'string' &&
    Object.keys(list[0]).length === 1 && Object.keys(list[1]).length === 1;
  for (const j of JUNCTORS) {
    const list = s[j];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      out.push(causes.invalid(p.child(j), list, 'must be an array of schemas'));
      continue;
    }
    if (j === 'anyOf' && intOrStringAnyOf(list)) continue;
    list.forEach((sub, i) => {
      if (j === 'allOf' && i === 0 && isObject(sub) && intOrStringAnyOf(sub.anyOf)) return;
      if (isObject(sub)) nested(sub, p.child(j).index(i), level, out);
    });
  }
  if (isObject(s.not)) nested(s.not, p.child('not'), level, out);
}

function nested(v: JsonObject, p: FieldPath, level: Level, out: StatusCause[]): void {
  const forbidden: [string, string][] = [
    ['type', 'must be empty to be structural'],
    ['additionalProperties', 'must be undefined to be structural'],
    ['default', 'must be undefined to be structural'],
    ['title', 'must be empty to be structural'],
    ['description', 'must be empty to be structural'],
    ['externalDocs', 'must be undefined to be structural'],
    ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
    ['x-kubernetes-list-type', 'must be undefined to be structural'],
    ['x-kubernetes-map-type', 'must be undefined to be structural'],
    ['x-kubernetes-validations', 'must be empty to be structural'],
  ];
  for (const [k, why] of forbidden) if (v[k] !== undefined) out.push(causes.forbidden(p.child(k), why));
  for (const k of ['nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string']) {
    if (v[k] === true) out.push(causes.forbidden(p.child(k), 'must be false to be structural'));
  }
  const props = isObject(v.properties) ? v.properties : {};
  if ('metadata' in props) out.push(causes.forbidden(p.child('properties').key('metadata'), 'must not be specified in a nested context'));
  for (const [k, sub] of Object.entries(props)) if (isObject(sub)) nested(sub, p.child('properties').key(k), 'field', out);
  if (isObject(v.items)) nested(v.items, p.child('items'), level, out);
  junctors(v, p, level, out);
}

/** A default must validate against its own schema, and must survive pruning unchanged. */
function defaultValue(s: JsonObject, p: FieldPath, out: StatusCause[]): void {
  const schema = s as JSONSchemaProps;
  const dp = p.child('default');
  for (const c of validateValue(schema.default, schema, dp)) out.push(c);
  const { unknownFields } = prune({ x: schema.default }, { type: 'object', properties: { x: schema } });
  if (unknownFields.length > 0) out.push(causes.invalid(dp, schema.default, `must not have unknown fields: ${unknownFields.map((f) => f.replace(/^x\.?/, '')).join(', ')}`));
}
