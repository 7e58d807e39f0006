/**
 * The REST paths of a type at a version and their operations, with the extensions kubectl reads:
 * `x-kubernetes-group-version-kind` on each operation (newer kubectl decides it may rely on
 * server-side field validation when the PATCH operation of a kind lists the `fieldValidation` query
 * parameter) and `x-kubernetes-action`.
 */
import type { ResourceType } from '../registry/types.js';
import { DELETE_OPTIONS, PATCH, refTo, SCALE, STATUS, type RefStyle } from './common.js';
import { groupToken, groupVersionPrefix, tagOf, typeDefinitionName } from './names.js';

type Def = Record<string, unknown>;

interface Param {
  name: string;
  in: 'query' | 'path';
  description: string;
  type?: 'string' | 'boolean' | 'integer';
  required?: boolean;
}

const q = (name: string, description: string, type: Param['type'] = 'string'): Param => ({ name, in: 'query', description, type });

const PRETTY = q('pretty', "If 'true', then the output is pretty printed.");
const DRY_RUN = q('dryRun', 'When present (All), modifications are not persisted.');
const FIELD_MANAGER = q('fieldManager', 'Name of the actor making the change, for field management.');
export const FIELD_VALIDATION = q(
  'fieldValidation',
  'How the server treats fields it does not know or finds duplicated: Ignore drops them silently, Warn drops them and adds a warning per field, Strict refuses the request with a BadRequest. Defaults to Warn when the feature is on, Ignore otherwise.',
);
const FORCE = q('force', 'Force an apply request, taking conflicting fields from other managers.', 'boolean');
const LIST_PARAMS = [
  q('allowWatchBookmarks', 'Ask for BOOKMARK watch events.', 'boolean'),
  q('continue', 'Token of the next page.'),
  q('fieldSelector', 'Select objects by their fields.'),
  q('labelSelector', 'Select objects by their labels.'),
  q('limit', 'Maximum number of items to return.', 'integer'),
  q('resourceVersion', 'Resource version to serve from.'),
  q('resourceVersionMatch', 'How resourceVersion applies (Exact, NotOlderThan).'),
  q('sendInitialEvents', 'Start a watch with the current objects.', 'boolean'),
  q('timeoutSeconds', 'Timeout of the list or watch call.', 'integer'),
  q('watch', 'Watch for changes instead of listing.', 'boolean'),
];
const DELETE_PARAMS = [
  DRY_RUN,
  q('gracePeriodSeconds', 'Seconds before the object is deleted.', 'integer'),
  q('propagationPolicy', 'Orphan, Background or Foreground garbage collection of dependents.'),
];

interface OpSpec {
  method: 'get' | 'put' | 'post' | 'delete' | 'patch';
  action: string;
  operationId: string;
  description: string;
  params: Param[];
  body?: string;
  response: string;
  created?: boolean;
  gvk: { group: string; version: string; kind: string };
}

/**
 * The patch types a type accepts, as the server does: strategic merge only for built-in kinds (kubectl's
 * apply reads this list and falls back to a JSON merge patch for custom resources); server-side apply
 * for every kind.
 */
function patchTypes(builtIn: boolean): string[] {
  return builtIn
    ? ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']
    : ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
}

function operation(op: OpSpec, style: RefStyle, tag: string, builtIn: boolean): Def {
  const consumes = op.method === 'patch' ? patchTypes(builtIn) : ['*/*'];
  const produces = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
  const responses: Record<string, string> = { '200': 'OK' };
  if (op.created) responses['201'] = 'Created';
  if (op.method === 'post') responses['202'] = 'Accepted';
  const ext = { 'x-kubernetes-action': op.action, 'x-kubernetes-group-version-kind': op.gvk };
  if (style === 'v2') {
    const parameters: Def[] = op.params.map((p) => ({ uniqueItems: true, type: p.type ?? 'string', name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}) }));
    if (op.body) parameters.unshift({ name: 'body', in: 'body', required: op.method !== 'delete', schema: { $ref: refTo(style, op.body) } });
    return {
      description: op.description, consumes, produces, schemes: ['https'], tags: [tag], operationId: op.operationId, parameters,
      responses: {
        ...Object.fromEntries(Object.entries(responses).map(([code, d]) => [code, { description: d, schema: { $ref: refTo(style, op.response) } }])),
        '401': { description: 'Unauthorized' },
      },
      ...ext,
    };
  }
  const content = (ref: string, types: string[]) => Object.fromEntries(types.map((t) => [t, { schema: { $ref: refTo(style, ref) } }]));
  return {
    tags: [tag], description: op.description, operationId: op.operationId,
    parameters: op.params.map((p) => ({ name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}), schema: { type: p.type ?? 'string', uniqueItems: true } })),
    ...(op.body ? { requestBody: { content: content(op.body, op.method === 'patch' ? consumes : ['*/*']), ...(op.method !== 'delete' ? { required: true } : {}) } } : {}),
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([code, d]) => [code, { description: d, content: content(op.response, produces) }])),
      '401': { description: 'Unauthorized' },
    },
    ...ext,
  };
}

/** The path items of one type at one version (`/api/v1/namespaces/{namespace}/pods/{name}`, …). */
export function pathsOf(t: ResourceType, version: string, style: RefStyle): Record<string, Def> {
  const out: Record<string, Def> = {};
  const verbs = new Set(t.verbs);
  const prefix = groupVersionPrefix(t.group, version);
  const tag = tagOf(t.group, version);
  const token = `${groupToken(t.group)}${version[0]!.toUpperCase()}${version.slice(1)}`;
  const ns = t.namespaced ? 'Namespaced' : '';
  const kindRef = typeDefinitionName(t, version);
  const listRef = typeDefinitionName(t, version, t.listKind);
  const gvk = { group: t.group, version, kind: t.kind };
  const collection = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}` : `${prefix}/${t.plural}`;
  const item = `${collection}/{name}`;
  const nsParam: Param = { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', type: 'string', required: true };
  const nameParam = (of: string): Param => ({ name: 'name', in: 'path', description: `name of the ${of}`, type: 'string', required: true });
  const pathParams = (withName: boolean, of = t.kind) => [...(withName ? [nameParam(of)] : []), ...(t.namespaced ? [nsParam] : []), PRETTY];
  const writeParams = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];

  const add = (path: string, params: Param[], ops: OpSpec[]) => {
    if (ops.length === 0) return;
    const pi: Def = {};
    for (const op of ops) pi[op.method] = operation(op, style, tag, t.builtIn);
    pi.parameters = params.map((p) => style === 'v2'
      ? { uniqueItems: true, type: p.type ?? 'string', name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}) }
      : { name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}), schema: { type: p.type ?? 'string', uniqueItems: true } });
    out[path] = pi;
  };

  const coll: OpSpec[] = [];
  if (verbs.has('list')) coll.push({ method: 'get', action: 'list', operationId: `list${token}${ns}${t.kind}`, description: `list or watch objects of kind ${t.kind}`, params: LIST_PARAMS, response: listRef, gvk });
  if (verbs.has('create')) coll.push({ method: 'post', action: 'post', operationId: `create${token}${ns}${t.kind}`, description: `create ${article(t.kind)} ${t.kind}`, params: writeParams, body: kindRef, response: kindRef, created: true, gvk });
  if (verbs.has('deletecollection')) coll.push({ method: 'delete', action: 'deletecollection', operationId: `deletecollection${token}${ns}${t.kind}`, description: `delete collection of ${t.kind}`, params: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch')], body: DELETE_OPTIONS, response: STATUS, gvk });
  add(collection, pathParams(false), coll);

  const one: OpSpec[] = [];
  if (verbs.has('get')) one.push({ method: 'get', action: 'get', operationId: `read${token}${ns}${t.kind}`, description: `read the specified ${t.kind}`, params: [], response: kindRef, gvk });
  if (verbs.has('update')) one.push({ method: 'put', action: 'put', operationId: `replace${token}${ns}${t.kind}`, description: `replace the specified ${t.kind}`, params: writeParams, body: kindRef, response: kindRef, created: true, gvk });
  if (verbs.has('patch')) one.push({ method: 'patch', action: 'patch', operationId: `patch${token}${ns}${t.kind}`, description: `partially update the specified ${t.kind}`, params: [...writeParams, FORCE], body: PATCH, response: kindRef, created: true, gvk });
  if (verbs.has('delete')) one.push({ method: 'delete', action: 'delete', operationId: `delete${token}${ns}${t.kind}`, description: `delete ${article(t.kind)} ${t.kind}`, params: DELETE_PARAMS, body: DELETE_OPTIONS, response: STATUS, gvk });
  add(item, pathParams(true), one);

  if (t.namespaced && verbs.has('list')) {
    add(`${prefix}/${t.plural}`, [PRETTY], [{ method: 'get', action: 'list', operationId: `list${token}${t.kind}ForAllNamespaces`, description: `list or watch objects of kind ${t.kind}`, params: LIST_PARAMS, response: listRef, gvk }]);
  }

  const served = new Set([...t.subresources, ...(t.versions.find((v) => v.name === version)?.subresources ?? [])]);
  if (served.has('status')) {
    add(`${item}/status`, pathParams(true), [
      { method: 'get', action: 'get', operationId: `read${token}${ns}${t.kind}Status`, description: `read status of the specified ${t.kind}`, params: [], response: kindRef, gvk },
      { method: 'put', action: 'put', operationId: `replace${token}${ns}${t.kind}Status`, description: `replace status of the specified ${t.kind}`, params: writeParams, body: kindRef, response: kindRef, created: true, gvk },
      { method: 'patch', action: 'patch', operationId: `patch${token}${ns}${t.kind}Status`, description: `partially update status of the specified ${t.kind}`, params: [...writeParams, FORCE], body: PATCH, response: kindRef, created: true, gvk },
    ]);
  }
  if (served.has('scale')) {
    const sgvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
    add(`${item}/scale`, pathParams(true, 'Scale'), [
      { method: 'get', action: 'get', operationId: `read${token}${ns}${t.kind}Scale`, description: `read scale of the specified ${t.kind}`, params: [], response: SCALE, gvk: sgvk },
      { method: 'put', action: 'put', operationId: `replace${token}${ns}${t.kind}Scale`, description: `replace scale of the specified ${t.kind}`, params: writeParams, body: SCALE, response: SCALE, created: true, gvk: sgvk },
      { method: 'patch', action: 'patch', operationId: `patch${token}${ns}${t.kind}Scale`, description: `partially update scale of the specified ${t.kind}`, params: [...writeParams, FORCE], body: PATCH, response: SCALE, created: true, gvk: sgvk },
    ]);
  }
  return out;
}

const article = (noun: string) => (/^[AEIOU]/.test(noun) ? 'an' : 'a');
