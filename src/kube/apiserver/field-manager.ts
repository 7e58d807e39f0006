/**
 * Field management on the API server's writes: which manager a request acts for, the merge schema
 * of a type, and `metadata.managedFields` recorded on create, update and patch (an Update entry) as
 * kube-apiserver records them. Server-side apply itself is in apply.ts.
 */
import type { Resource } from '../../api/types.js';
import { builtinExtras, fromJsonSchema, fromStrategic, managedFieldsAfterUpdate, NO_SCHEMA, OBJECT_META, overlay, type ApplySchema, type Operation } from '../apply/index.js';
import { strategicSchemaFor } from '../patch/index.js';
import type { ResourceType } from '../registry/index.js';
import { apiVersionOf } from '../registry/index.js';
import { kubeNow } from './objects.js';
import type { RequestContext } from './context.js';
import { hasStatusSubresource, type Target } from './resources.js';
import { invalid } from './status.js';

const MAX_MANAGER_LENGTH = 128;

const schemas = new WeakMap<ResourceType, Map<string, ApplySchema>>();

/**
 * The type's merge schema at `version`: the CRD's (or built-in's) OpenAPI list and map types, with
 * the strategic-merge keys of built-in kinds laid over them, and ObjectMeta's keys under metadata.
 */
export function applySchemaFor(type: ResourceType, version: string): ApplySchema {
  let byVersion = schemas.get(type);
  if (!byVersion) schemas.set(type, (byVersion = new Map()));
  const cached = byVersion.get(version);
  if (cached) return cached;
  const json = type.versions.find((v) => v.name === version)?.schema;
  let s = json ? fromJsonSchema(json) : NO_SCHEMA;
  const strategic = type.builtIn ? strategicSchemaFor(type.group, type.kind) : undefined;
  if (strategic) s = overlay(s, fromStrategic(strategic));
  if (type.builtIn) s = overlay(s, builtinExtras(type.group, type.kind));
  s = overlay(s, { fields: { metadata: OBJECT_META } });
  byVersion.set(version, s);
  return s;
}

function optionsInvalid(field: string, reason: string, message: string): Error {
  const e = invalid('meta.k8s.io', 'PatchOptions', '', [{ reason, field, message }]);
  // options have no name: kube-apiserver's details leave it out
  delete e.status.details?.name;
  return e;
}

/**
 * The manager a write acts for: `fieldManager`, else (not for apply) the User-Agent up to its first
 * `/` (`kubectl` for `kubectl/v1.30.0 (linux/amd64) …`), as kube-apiserver derives it.
 */
export function managerOf(t: Target, apply: boolean): string {
  const given = t.url.searchParams.get('fieldManager');
  if (given !== null && given !== '') {
    if (given.length > MAX_MANAGER_LENGTH) throw optionsInvalid('fieldManager', 'FieldValueTooLong', `Too long: may not be longer than ${MAX_MANAGER_LENGTH}`);
    if (!/^[\x20-\x7e]+$/.test(given)) throw optionsInvalid('fieldManager', 'FieldValueInvalid', `Invalid value: ${JSON.stringify(given)}: must be made of printable characters`);
    return given;
  }
  if (apply) throw optionsInvalid('fieldManager', 'FieldValueRequired', 'Required value: is required for apply patch');
  const ua = t.req.headers['user-agent'] ?? '';
  const slash = ua.indexOf('/');
  return (slash < 0 ? ua : ua.slice(0, slash)).trim().slice(0, MAX_MANAGER_LENGTH);
}

export function operationOf(ctx: RequestContext, t: Target, manager: string): Operation {
  return {
    manager,
    apiVersion: apiVersionOf(t.type.group, t.info.version),
    now: kubeNow(ctx.now()),
    scope: { subresource: t.info.subresource === 'status' ? 'status' : '', statusSplit: hasStatusSubresource(t.type, t.info.version) },
    schema: applySchemaFor(t.type, t.info.version),
  };
}

/**
 * `next` with the managedFields an Update by this request's manager leaves (`before` undefined on
 * create); `given` is the managedFields the request's object carried, which replace the stored ones.
 */
export function withUpdateFields(ctx: RequestContext, t: Target, before: Resource | undefined, next: Resource, given?: unknown): Resource {
  const op = operationOf(ctx, t, managerOf(t, false));
  const managedFields = managedFieldsAfterUpdate(before, next, op, given);
  const meta = { ...next.metadata } as Resource['metadata'] & { managedFields?: unknown };
  if (managedFields.length > 0) meta.managedFields = managedFields;
  else delete meta.managedFields;
  return { ...next, metadata: meta };
}
