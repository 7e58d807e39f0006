/**
 * Authorization attributes of an HTTP request, as kube-apiserver's RequestInfoFactory and
 * authorization filter build them, and the 403 it answers with when they are refused.
 */
import { StatusError, type StatusDetails } from '../apiserver/status.js';
import type { RequestInfo } from '../apiserver/request-info.js';
import type { AuthorizationAttributes } from './types.js';

/** The single-name case of a field selector: `metadata.name=x` (alone or ANDed with others). */
function exactName(fieldSelector: string | null): string | undefined {
  if (!fieldSelector) return undefined;
  for (const term of fieldSelector.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*([^,!=\s]+)\s*$/.exec(term);
    if (m && /^[^/%]+$/.test(m[1]!) && m[1] !== '.' && m[1] !== '..') return m[1];
  }
  return undefined;
}

const STREAMING = new Set(['exec', 'attach', 'portforward']);

/**
 * The attributes to authorize, in order; every one must be allowed. One set for almost everything;
 * a websocket (GET) exec/attach/portforward must also be allowed `create`, as kube-apiserver checks
 * since 1.31 (AuthorizePodWebsocketUpgradeCreatePermission), so `get` alone does not open a shell.
 */
export function attributesOf(method: string, url: URL, info: RequestInfo): AuthorizationAttributes[] {
  const m = method.toUpperCase();
  if (info.type === 'nonresource') {
    return [{ resourceRequest: false, verb: m.toLowerCase(), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: url.pathname }];
  }
  let verb: string;
  switch (m) {
    case 'POST': verb = 'create'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = info.name === undefined ? 'deletecollection' : 'delete'; break;
    default: verb = 'get';
  }
  let name = info.name ?? '';
  if (verb === 'get' && info.name === undefined) {
    const watch = url.searchParams.get('watch');
    verb = watch === 'true' || watch === '1' ? 'watch' : 'list';
    name = exactName(url.searchParams.get('fieldSelector')) ?? '';
  }
  // `/api/v1/namespaces/x` is in namespace x: a RoleBinding there can allow reading its own Namespace.
  const namespace = info.group === '' && info.resource === 'namespaces' && info.namespace === undefined ? (info.name ?? '') : (info.namespace ?? '');
  const base: AuthorizationAttributes = {
    resourceRequest: true, verb, apiGroup: info.group, apiVersion: info.version, resource: info.resource,
    subresource: info.subresource ?? '', namespace, name, path: url.pathname,
  };
  if (verb === 'get' && info.group === '' && info.resource === 'pods' && STREAMING.has(info.subresource ?? '')) {
    return [base, { ...base, verb: 'create' }];
  }
  return [base];
}

const SANITIZE: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** `forbiddenMessage` of k8s.io/apiserver's responsewriters. */
export function forbiddenMessage(attrs: AuthorizationAttributes, username: string): string {
  const user = JSON.stringify(username);
  if (!attrs.resourceRequest) return `User ${user} cannot ${attrs.verb} path ${JSON.stringify(attrs.path)}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const what = `User ${user} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup)}`;
  return attrs.namespace ? `${what} in the namespace ${JSON.stringify(attrs.namespace)}` : `${what} at the cluster scope`;
}

/**
 * The 403 kube-apiserver answers a refused request with (`responsewriters.Forbidden` and
 * `apierrors.NewForbidden`): `pods "x" is forbidden: User "jane" cannot delete resource "pods" in API
 * group "" in the namespace "default"`, the authorizer's reason appended after `: ` when it gave one.
 */
export function forbiddenError(attrs: AuthorizationAttributes, username: string, reason = ''): StatusError {
  const msg = forbiddenMessage(attrs, username).replace(/[&<>]/g, (c) => SANITIZE[c]!);
  const err = reason ? `${msg}: ${reason}` : msg;
  const qualified = attrs.resource === '' && attrs.apiGroup === '' ? '' : attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  let message: string;
  if (qualified === '') message = `forbidden: ${err}`;
  else if (attrs.name === '') message = `${qualified} is forbidden: ${err}`;
  else message = `${qualified} ${JSON.stringify(attrs.name)} is forbidden: ${err}`;
  const details: StatusDetails = {};
  if (attrs.name) details.name = attrs.name;
  if (attrs.apiGroup) details.group = attrs.apiGroup;
  if (attrs.resource) details.kind = attrs.resource;
  return new StatusError('Forbidden', message, details);
}
