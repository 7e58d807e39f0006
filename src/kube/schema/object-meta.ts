/**
 * The part of ObjectMeta validation a CRD schema can influence: `name` and `generateName`. The rest of
 * metadata is ObjectMeta as every kind has it, whatever the CRD says (the apiserver ignores the rest
 * of a CRD's metadata schema, and structural-schema validation refuses it).
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { causes, type FieldPath, type StatusCause } from './causes.js';
import { isObject } from './walk.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MAX = 253;

/** apimachinery's message for a name that is not a DNS-1123 subdomain. */
export function dnsSubdomainProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX) out.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
  if (!DNS1123_SUBDOMAIN.test(value)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

export interface ObjectMetaOptions {
  /** a missing name is an error unless generateName is set (true for top-level objects on create) */
  requireName: boolean;
  /** the CRD's `metadata` schema, whose name/generateName restrictions apply */
  schema?: JSONSchemaProps;
  /** validates a string against a property schema (the schema walker, passed in to avoid a cycle) */
  validateString?: (value: string, schema: JSONSchemaProps, path: FieldPath) => StatusCause[];
}

export function validateObjectMeta(meta: unknown, path: FieldPath, opts: ObjectMetaOptions): StatusCause[] {
  if (meta === undefined || meta === null) {
    return opts.requireName ? [causes.required(path.child('name'), 'name or generateName is required')] : [];
  }
  if (!isObject(meta)) return [causes.typeInvalid(path, meta, `${path} in body must be of type object: "${Array.isArray(meta) ? 'array' : typeof meta}"`)];
  const out: StatusCause[] = [];
  const name = meta.name;
  const generateName = meta.generateName;
  for (const [key, value] of [['name', name], ['generateName', generateName]] as const) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') {
      out.push(causes.typeInvalid(path.child(key), value, `${path.child(key)} in body must be of type string: "${typeof value}"`));
      continue;
    }
    // generateName gets a random suffix, so only its prefix is checked, without the trailing '-'
    const checked = key === 'generateName' ? value.replace(/-$/, '') : value;
    if (checked !== '') for (const p of dnsSubdomainProblems(checked)) out.push(causes.invalid(path.child(key), value, p));
    const sub = opts.schema?.properties?.[key];
    if (sub && opts.validateString) out.push(...opts.validateString(value, sub, path.child(key)));
  }
  if (opts.requireName && (name === undefined || name === '') && (generateName === undefined || generateName === '')) {
    out.push(causes.required(path.child('name'), 'name or generateName is required'));
  }
  return out;
}
