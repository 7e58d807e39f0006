/**
 * The server's own admission, before the platform's: CustomResourceDefinitions are checked as
 * kube-apiserver checks them (names, scope, versions, structural schemas) and get their status and
 * cleanup finalizer; custom resources are pruned, defaulted and validated against their version's
 * schema, with unknown fields refused, warned about or dropped per `fieldValidation`.
 */
import type { Resource } from '../../api/types.js';
import type { ResourceType } from '../registry/index.js';
import { establishedStatus } from '../registry/index.js';
import { applyDefaults, prune, strictDecodingMessage, unknownFieldWarnings, validateObject, validateStructuralSchema } from '../schema/index.js';
import { ADMISSIONREGISTRATION_GROUP, validateWebhookConfiguration, WEBHOOK_CONFIG_KINDS, withDefaults, type WebhookConfigKind } from '../admission-webhooks/index.js';
import { isObject, kubeNow } from './objects.js';
import { badRequest, invalid, type StatusCause } from './status.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationOf(url: URL): FieldValidation {
  const v = url.searchParams.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

function isCrd(type: ResourceType): boolean {
  return type.group === 'apiextensions.k8s.io' && type.kind === 'CustomResourceDefinition';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkCrd(obj: Resource, operation: 'CREATE' | 'UPDATE', old: Resource | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  const add = (field: string, reason: string, message: string): void => {
    out.push({ field, reason, message });
  };
  const spec = (isObject(obj.spec) ? obj.spec : {}) as Record<string, unknown>;
  const names = (isObject(spec.names) ? spec.names : {}) as Record<string, unknown>;
  const group = typeof spec.group === 'string' ? spec.group : '';
  if (!group) add('spec.group', 'FieldValueRequired', 'Required value');
  else if (!group.includes('.')) add('spec.group', 'FieldValueInvalid', `Invalid value: "${group}": should be a domain with at least one dot`);
  const plural = typeof names.plural === 'string' ? names.plural : '';
  if (!plural) add('spec.names.plural', 'FieldValueRequired', 'Required value');
  else if (!DNS_LABEL.test(plural)) add('spec.names.plural', 'FieldValueInvalid', `Invalid value: "${plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`);
  if (typeof names.kind !== 'string' || !names.kind) add('spec.names.kind', 'FieldValueRequired', 'Required value');
  if (typeof names.listKind === 'string' && names.listKind === names.kind) add('spec.names.listKind', 'FieldValueInvalid', 'Invalid value: kind and listKind may not be the same');
  if (plural && group && obj.metadata.name !== `${plural}.${group}`) {
    add('metadata.name', 'FieldValueInvalid', `Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group`);
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    add('spec.scope', 'FieldValueNotSupported', `Unsupported value: "${String(spec.scope ?? '')}": supported values: "Cluster", "Namespaced"`);
  }
  const versions = Array.isArray(spec.versions) ? (spec.versions as Record<string, unknown>[]) : [];
  if (versions.length === 0) add('spec.versions', 'FieldValueInvalid', 'Invalid value: must have exactly one version marked as storage version');
  const storage = versions.filter((v) => v.storage === true).length;
  if (versions.length > 0 && storage !== 1) add('spec.versions', 'FieldValueInvalid', `Invalid value: must have exactly one version marked as storage version`);
  versions.forEach((v, i) => {
    if (typeof v.name !== 'string' || !DNS_LABEL.test(v.name)) add(`spec.versions[${i}].name`, 'FieldValueInvalid', `Invalid value: "${String(v.name ?? '')}": must be a DNS-1035 label`);
    const schema = isObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (schema === undefined) add(`spec.versions[${i}].schema.openAPIV3Schema`, 'FieldValueRequired', 'Required value: schemas are required');
    else for (const c of validateStructuralSchema(schema, `spec.versions[${i}].schema.openAPIV3Schema`)) out.push(c);
  });
  if (operation === 'UPDATE' && old) {
    const before = (old.spec ?? {}) as Record<string, unknown>;
    if (before.group !== spec.group) add('spec.group', 'FieldValueInvalid', 'Invalid value: field is immutable');
    if (isObject(before.names) && before.names.plural !== names.plural) add('spec.names.plural', 'FieldValueInvalid', 'Invalid value: field is immutable');
    if (before.scope !== spec.scope) add('spec.scope', 'FieldValueInvalid', 'Invalid value: field is immutable');
  }
  return out;
}

export interface BuiltinAdmissionResult {
  object: Resource;
  warnings: string[];
}

/** Applies the server's own rules for CRDs and custom resources; other types pass unchanged. */
export function builtinAdmission(
  type: ResourceType, version: string, obj: Resource, operation: 'CREATE' | 'UPDATE', old: Resource | undefined,
  validation: FieldValidation, subresource: string | undefined, now: Date,
): BuiltinAdmissionResult {
  if (isCrd(type)) {
    if (subresource === 'status') return { object: obj, warnings: [] };
    const causes = checkCrd(obj, operation, old);
    if (causes.length > 0) throw invalid(type.group, type.kind, obj.metadata.name, causes);
    const out = structuredClone(obj);
    // A CRD being deleted keeps the status its lifecycle controller writes.
    if (!out.metadata.deletionTimestamp) out.status = establishedStatus(out.spec as { names?: object; versions?: { name?: string; storage?: boolean }[] }, kubeNow(now));
    return { object: out, warnings: [] };
  }
  if (type.group === ADMISSIONREGISTRATION_GROUP && (WEBHOOK_CONFIG_KINDS as readonly string[]).includes(type.kind)) {
    // kube-apiserver's defaults and validation of webhook configurations (src/kube/admission-webhooks)
    const kind = type.kind as WebhookConfigKind;
    const defaulted = withDefaults(obj, kind) as Resource;
    const causes = validateWebhookConfiguration(defaulted, kind);
    if (causes.length > 0) throw invalid(type.group, type.kind, obj.metadata.name, causes);
    return { object: defaulted, warnings: [] };
  }
  if (type.builtIn) return { object: obj, warnings: [] };
  const schema = type.versions.find((v) => v.name === version)?.schema;
  if (!schema) return { object: obj, warnings: [] };
  const { pruned, unknownFields } = prune(obj, schema);
  if (unknownFields.length > 0 && validation === 'Strict') throw badRequest(strictDecodingMessage(unknownFields));
  const defaulted = applyDefaults(pruned, schema) as Resource;
  // Deletion only removes finalizers: an object being finalized is not re-validated.
  if (!defaulted.metadata?.deletionTimestamp) {
    const causes = validateObject(defaulted, schema, { requireName: operation === 'CREATE' });
    if (causes.length > 0) throw invalid(type.group, type.kind, obj.metadata.name, causes);
  }
  return { object: defaulted, warnings: validation === 'Warn' ? unknownFieldWarnings(unknownFields) : [] };
}
