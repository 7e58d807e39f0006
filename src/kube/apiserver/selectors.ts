/** Label and field selectors of list, watch and deletecollection requests. */
import { parseSelectorString, selectorMatches } from '../../api/labels.js';
import type { LabelSelector, Resource } from '../../api/types.js';
import { badRequest } from './status.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/**
 * The fields kube-apiserver lets each kind be selected by. Kinds with a field-label conversion of
 * their own (core/v1 Pod, Event, Namespace, Secret, Service, ReplicationController, Node) accept
 * exactly their list and refuse anything else as `field label not supported: X`; every other
 * built-in kind accepts metadata.name and metadata.namespace and words the refusal as
 * `"X" is not a known field selector: only "metadata.name", "metadata.namespace"`. Custom resources
 * accept metadata.name (and metadata.namespace when namespaced), refused as "field label not supported".
 */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const OWN_CONVERSION: Record<string, string[]> = {
  '/Pod': [...COMMON_FIELDS, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  '/Event': [...COMMON_FIELDS, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  '/Secret': [...COMMON_FIELDS, 'type'],
  '/Namespace': ['metadata.name', 'status.phase'],
  '/Service': [...COMMON_FIELDS, 'spec.clusterIP', 'spec.type'],
  '/ReplicationController': [...COMMON_FIELDS, 'status.replicas'],
  '/Node': ['metadata.name', 'spec.unschedulable'],
};
/** built-in kinds without their own conversion that still index a field here */
const EXTRA_FIELDS: Record<string, string[]> = {
  'apps/ReplicaSet': ['status.replicas'],
};

export interface FieldSelectorScope {
  /** a custom resource (CRD-served kind) rather than a built-in one */
  custom?: boolean;
  namespaced?: boolean;
}

export function parseFieldSelector(input: string | null, group: string, kind: string, scope: FieldSelectorScope = {}): FieldRequirement[] {
  if (!input) return [];
  const key = `${group}/${kind}`;
  const own = scope.custom ? (scope.namespaced === false ? ['metadata.name'] : COMMON_FIELDS) : OWN_CONVERSION[key];
  const allowed = own ?? [...COMMON_FIELDS, ...(EXTRA_FIELDS[key] ?? [])];
  const refuse = (field: string): string =>
    own ? `field label not supported: ${field}` : `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`;
  const out: FieldRequirement[] = [];
  for (const part of input.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = p.match(/^([^!=]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid field selector: "${p}": expected field=value or field!=value`);
    const field = m[1]!.trim();
    if (!allowed.includes(field)) throw badRequest(refuse(field));
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() });
  }
  return out;
}

function fieldValue(obj: Resource, path: string): string {
  if (path === 'source') {
    const src = (obj as unknown as { source?: { component?: string } }).source;
    return src?.component ?? '';
  }
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function parseLabelSelector(input: string | null): LabelSelector | undefined {
  if (!input) return undefined;
  try {
    return parseSelectorString(input);
  } catch (e) {
    // kube-apiserver's wording starts `unable to parse requirement: `; say it once
    const message = (e as Error).message;
    throw badRequest(message.startsWith('unable to parse requirement') ? message : `unable to parse requirement: ${message}`);
  }
}

export interface Selection {
  labels?: LabelSelector;
  fields: FieldRequirement[];
}

export function matches(obj: Resource, sel: Selection): boolean {
  if (sel.labels && !selectorMatches(sel.labels, obj.metadata.labels)) return false;
  for (const f of sel.fields) {
    const equal = fieldValue(obj, f.field) === f.value;
    if (equal !== (f.op === '=')) return false;
  }
  return true;
}
