/** Label and field selectors of list, watch and deletecollection requests. */
import { parseSelectorString, selectorMatches } from '../../api/labels.js';
import type { LabelSelector, Resource } from '../../api/types.js';
import { badRequest } from './status.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Fields every kind can be selected by, and the extra ones kube-apiserver indexes per kind. */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const KIND_FIELDS: Record<string, string[]> = {
  '/Pod': ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  '/Event': ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  '/Secret': ['type'],
  '/Namespace': ['status.phase'],
  '/ReplicationController': ['status.replicas'],
  'apps/ReplicaSet': ['status.replicas'],
};

export function parseFieldSelector(input: string | null, group: string, kind: string): FieldRequirement[] {
  if (!input) return [];
  const allowed = [...COMMON_FIELDS, ...(KIND_FIELDS[`${group}/${kind}`] ?? [])];
  const out: FieldRequirement[] = [];
  for (const part of input.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = p.match(/^([^!=]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid field selector: "${p}": expected field=value or field!=value`);
    const field = m[1]!.trim();
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
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
    throw badRequest(`unable to parse requirement: ${(e as Error).message}`);
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
