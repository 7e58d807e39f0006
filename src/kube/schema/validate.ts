/**
 * Validation of a custom resource against its CRD's `openAPIV3Schema`, producing the causes
 * kube-apiserver produces (kube-openapi's validator, whose results the apiextensions server maps to
 * field errors: required → Required, enum → NotSupported, maxLength → TooLong, maxItems → TooMany,
 * wrong type → TypeInvalid, everything else → Invalid with the validator's sentence as detail).
 *
 * Unknown fields are not reported here: the apiserver prunes them before validating (see prune.ts).
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { causes, FieldPath, SchemaValidationError, type StatusCause } from './causes.js';
import { validateObjectMeta } from './object-meta.js';
import { isObject, jsonEqual, jsonTypeOf } from './walk.js';

export interface ValidateOptions {
  /** check metadata as the apiserver does on create (name or generateName required); default true */
  requireName?: boolean;
}

/** Validates a whole object (apiVersion, kind, metadata, and the rest against the schema). */
export function validateObject(obj: unknown, schema: JSONSchemaProps, opts: ValidateOptions = {}): StatusCause[] {
  const root = FieldPath.root();
  if (!isObject(obj)) return [causes.typeInvalid(root, obj, `body must be of type object: "${jsonTypeOf(obj)}"`)];
  const out: StatusCause[] = [];
  out.push(...validateObjectMeta(obj.metadata, root.child('metadata'), {
    requireName: opts.requireName ?? true,
    ...(schema.properties?.metadata ? { schema: schema.properties.metadata } : {}),
    validateString: (v, s, p) => validateValue(v, s, p),
  }));
  out.push(...validateValue(obj, schema, root, { skipMetadata: true }));
  return out;
}

/** `validateObject`, throwing a `SchemaValidationError` carrying the causes. */
export function assertValid(obj: unknown, schema: JSONSchemaProps, opts: ValidateOptions = {}): void {
  const found = validateObject(obj, schema, opts);
  if (found.length > 0) throw new SchemaValidationError(found);
}

interface WalkOptions {
  /** metadata at the root (or of an embedded resource) is ObjectMeta, validated apart */
  skipMetadata?: boolean;
}

/** The name go-openapi puts in its sentences: the path, or `body` at the root. */
const subject = (p: FieldPath) => (p.toString() === '' ? 'body' : `${p} in body`);

/** Validates one value against one schema node; exported for callers validating a subtree. */
export function validateValue(value: unknown, s: JSONSchemaProps, path: FieldPath, opts: WalkOptions = {}): StatusCause[] {
  const out: StatusCause[] = [];
  if (value === null || value === undefined) {
    if (s.nullable || (!s.type && !s['x-kubernetes-int-or-string'])) return out;
    const want = s['x-kubernetes-int-or-string'] ? 'integer,string' : (s.type as string);
    out.push(causes.typeInvalid(path, 'null', `${subject(path)} must be of type ${want}: "null"`));
    return out;
  }
  const actual = jsonTypeOf(value);
  if (s['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') {
      out.push(causes.typeInvalid(path, actual, `${subject(path)} must be of type integer,string: "${actual}"`));
      return out;
    }
  } else if (s.type && !typeMatches(s.type, actual)) {
    out.push(causes.typeInvalid(path, actual, `${subject(path)} must be of type ${s.type}: "${actual}"`));
    return out;
  }

  if (s.enum && s.enum.length > 0 && !s.enum.some((e) => jsonEqual(e, value))) {
    out.push(causes.notSupported(path, value, s.enum));
  }
  if (typeof value === 'string') out.push(...validateString(value, s, path));
  else if (typeof value === 'number') out.push(...validateNumber(value, s, path));
  else if (Array.isArray(value)) out.push(...validateArray(value, s, path));
  else if (isObject(value)) out.push(...validateMap(value, s, path, opts));
  return out;
}

function typeMatches(type: string, actual: string): boolean {
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return type === actual;
}

function validateString(value: string, s: JSONSchemaProps, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const length = [...value].length;
  if (s.maxLength !== undefined && length > s.maxLength) out.push(causes.tooLong(path, s.maxLength));
  if (s.minLength !== undefined && length < s.minLength) {
    out.push(causes.invalid(path, value, `${subject(path)} should be at least ${s.minLength} chars long`));
  }
  if (s.pattern !== undefined && !compiled(s.pattern).test(value)) {
    out.push(causes.invalid(path, value, `${subject(path)} should match '${s.pattern}'`));
  }
  if (s.format && FORMATS[s.format] && !FORMATS[s.format]!(value)) {
    out.push(causes.typeInvalid(path, value, `${subject(path)} must be of type ${s.format}: ${JSON.stringify(value)}`));
  }
  return out;
}

function validateNumber(value: number, s: JSONSchemaProps, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const ext = s as { exclusiveMaximum?: boolean; exclusiveMinimum?: boolean; multipleOf?: number };
  if (s.maximum !== undefined && (ext.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
    out.push(causes.invalid(path, value, `${subject(path)} should be less than ${ext.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
  if (s.minimum !== undefined && (ext.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
    out.push(causes.invalid(path, value, `${subject(path)} should be greater than ${ext.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  if (ext.multipleOf !== undefined && ext.multipleOf > 0 && !Number.isInteger(value / ext.multipleOf)) {
    out.push(causes.invalid(path, value, `${subject(path)} should be a multiple of ${ext.multipleOf}`));
  }
  return out;
}

function validateArray(value: unknown[], s: JSONSchemaProps, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  if (s.maxItems !== undefined && value.length > s.maxItems) out.push(causes.tooMany(path, value.length, s.maxItems));
  if (s.minItems !== undefined && value.length < s.minItems) {
    out.push(causes.invalid(path, value, `${subject(path)} should have at least ${s.minItems} items`));
  }
  if (s.items) value.forEach((item, i) => out.push(...validateItem(item, s.items!, path.index(i))));
  out.push(...validateListType(value, s, path));
  return out;
}

function validateItem(item: unknown, s: JSONSchemaProps, path: FieldPath): StatusCause[] {
  return validateValue(item, s, path, embeddedOpts(s)).concat(embeddedChecks(item, s, path));
}

function validateMap(value: Record<string, unknown>, s: JSONSchemaProps, path: FieldPath, opts: WalkOptions): StatusCause[] {
  const out: StatusCause[] = [];
  for (const r of s.required ?? []) {
    if (opts.skipMetadata && r === 'metadata') continue;
    if (!(r in value)) out.push(causes.required(path.child(r)));
  }
  const ext = s as { maxProperties?: number; minProperties?: number };
  const count = Object.keys(value).length;
  if (ext.maxProperties !== undefined && count > ext.maxProperties) out.push(causes.tooMany(path, count, ext.maxProperties));
  if (ext.minProperties !== undefined && count < ext.minProperties) {
    out.push(causes.invalid(path, count, `${subject(path)} should have at least ${ext.minProperties} properties`));
  }
  for (const [k, v] of Object.entries(value)) {
    if (opts.skipMetadata && k === 'metadata') continue;
    const child = path.child(k);
    const prop = s.properties?.[k];
    if (prop) {
      out.push(...validateValue(v, prop, child, embeddedOpts(prop)), ...embeddedChecks(v, prop, child));
    } else if (isObject(s.additionalProperties)) {
      out.push(...validateValue(v, s.additionalProperties, child, embeddedOpts(s.additionalProperties)), ...embeddedChecks(v, s.additionalProperties, child));
    } else if (s.additionalProperties === false && s.properties) {
      out.push(causes.forbidden(child, `${subject(child)} is a forbidden property`));
    }
  }
  return out;
}

const embeddedOpts = (s: JSONSchemaProps): WalkOptions => (s['x-kubernetes-embedded-resource'] ? { skipMetadata: true } : {});

/** An embedded resource needs apiVersion and kind, and its metadata is ObjectMeta (name optional). */
function embeddedChecks(value: unknown, s: JSONSchemaProps, path: FieldPath): StatusCause[] {
  if (!s['x-kubernetes-embedded-resource'] || !isObject(value)) return [];
  const out: StatusCause[] = [];
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') out.push(causes.required(path.child('apiVersion'), 'must not be empty'));
  if (typeof value.kind !== 'string' || value.kind === '') out.push(causes.required(path.child('kind'), 'must not be empty'));
  out.push(...validateObjectMeta(value.metadata, path.child('metadata'), { requireName: false }));
  return out;
}

/** `x-kubernetes-list-type: set` items and `map` keys must be unique. */
function validateListType(value: unknown[], s: JSONSchemaProps, path: FieldPath): StatusCause[] {
  const type = s['x-kubernetes-list-type'];
  const out: StatusCause[] = [];
  if (type === 'set') {
    value.forEach((item, i) => {
      if (value.slice(0, i).some((prev) => jsonEqual(prev, item))) out.push(causes.duplicate(path.index(i), item));
    });
  } else if (type === 'map') {
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    const seen: Record<string, unknown>[] = [];
    value.forEach((item, i) => {
      if (!isObject(item)) return;
      const k: Record<string, unknown> = {};
      for (const key of keys) if (key in item) k[key] = item[key];
      if (seen.some((prev) => jsonEqual(prev, k))) out.push(causes.duplicate(path.index(i), k));
      seen.push(k);
    });
  }
  return out;
}

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    // Go's RE2 and JS agree on the syntax CRDs use; 'u' makes \p{..} classes and code points behave alike
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = new RegExp(pattern);
    }
    patterns.set(pattern, re);
  }
  return re;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIpv6 = (v: string) => /^[0-9a-fA-F:.]+$/.test(v) && v.includes(':') && v.split('::').length <= 2;

/** The formats kube's format registry checks that manifests in this mesh meet; others are not checked. */
const FORMATS: Record<string, (v: string) => boolean> = {
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v),
  uuid: (v) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v),
  byte: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0,
  ipv4: (v) => IPV4.test(v),
  ipv6: isIpv6,
  cidr: (v) => {
    const [ip, bits, extra] = v.split('/');
    if (extra !== undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
    return (IPV4.test(ip!) && Number(bits) <= 32) || (isIpv6(ip!) && Number(bits) <= 128);
  },
  hostname: (v) => v.length <= 255 && /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/.test(v),
  mac: (v) => /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(v),
};
